import { chunkDocument } from '../chunk/chunk-document';
import type { Block, LoadedDocument } from '../types';
import { reassembleDocument, withoutOverlap } from './reassemble-document';

const doc = (blocks: Block[]): LoadedDocument => ({ id: 'guide.md', source: 'guide.md', title: 'Guide', blocks, contentHash: 'a'.repeat(64) });

/** Paragraphs of numbered sentences, under two headings, one on a second page. */
function sample(): LoadedDocument {
  const paragraph = (from: number, n: number) => Array.from({ length: n }, (_, i) => `Fact ${from + i} holds.`).join(' ');
  return doc([
    { headings: ['Guide'], text: paragraph(0, 3) },
    { headings: ['Guide'], text: paragraph(3, 4) },
    { headings: ['Guide', 'Setup'], text: paragraph(7, 5) },
    { headings: ['Guide', 'Setup'], text: `- step one\n- step two\n- step three` },
    { headings: ['Guide', 'Setup'], text: paragraph(12, 2), page: 2 },
  ]);
}

/** Every sentence once, in order: the document's words without chunking's repetition. */
const words = (d: LoadedDocument) =>
  d.blocks
    .map((b) => b.text)
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();

describe('reassembleDocument', () => {
  it.each([
    { size: 40, overlap: 15 },
    { size: 60, overlap: 30 },
    { size: 25, overlap: 0 },
    { size: 1000, overlap: 50 },
  ])('gives back the text chunked at $size/$overlap characters, each sentence once and in order', ({ size, overlap }) => {
    const original = sample();
    const chunks = chunkDocument(original, { size, overlap });
    // The chunks repeat text (overlap) whenever the settings make them.
    const repeated =
      chunks
        .map((c) => c.text)
        .join(' ')
        .replace(/\s+/g, ' ').length > words(original).length;
    expect(repeated).toBe(overlap > 0 && size < 100);
    const rebuilt = reassembleDocument(chunks);
    expect(words(rebuilt)).toBe(words(original));
    expect(rebuilt).toMatchObject({ id: 'guide.md', source: 'guide.md', title: 'Guide', contentHash: 'a'.repeat(64) });
    // Headings and pages come back with their text (a paragraph split to fit a chunk comes back as several).
    expect(words(doc(rebuilt.blocks.filter((b) => b.page === 2)))).toBe(original.blocks[4].text);
    expect(new Set(rebuilt.blocks.map((b) => b.headings.join(' > ')))).toEqual(new Set(['Guide', 'Guide > Setup']));
  });

  it('chunks the same again when the settings did not change', () => {
    const original = sample();
    const chunks = chunkDocument(original, { size: 60, overlap: 20 });
    expect(chunkDocument(reassembleDocument(chunks), { size: 60, overlap: 20 }).map((c) => c.text)).toEqual(chunks.map((c) => c.text));
  });

  it('orders chunks by position whatever order they come in', () => {
    const chunks = chunkDocument(sample(), { size: 50, overlap: 20 });
    expect(words(reassembleDocument([...chunks].reverse()))).toBe(words(sample()));
  });

  it('refuses a document without chunks', () => {
    expect(() => reassembleDocument([])).toThrow(/at least one chunk/);
  });
});

describe('withoutOverlap', () => {
  it('drops a first piece that ends the previous chunk, whitespace aside', () => {
    expect(withoutOverlap('One. Two.\n\nThree. Four.', 'Three.\nFour.\n\nFive.')).toBe('Five.');
  });

  it('keeps a first piece that is not the end of the previous chunk', () => {
    expect(withoutOverlap('One. Two.', 'Three.\n\nFour.')).toBe('Three.\n\nFour.');
    // Part of a word is no overlap.
    expect(withoutOverlap('One. Retwo.', 'two.\n\nThree.')).toBe('two.\n\nThree.');
    // A chunk with a single piece carries nothing.
    expect(withoutOverlap('One. Two.', 'Two.')).toBe('Two.');
  });
});
