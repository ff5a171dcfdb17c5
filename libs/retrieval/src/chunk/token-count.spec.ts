import { loadConfig } from '@rag/config';
import type { LoadedDocument } from '../types';
import { chunkDocument } from './chunk-document';
import { chunkingFromConfig, tokenCount } from './token-count';

const doc = (text: string): LoadedDocument => ({
  id: 'd.md',
  source: 'd.md',
  title: 'D',
  contentHash: 'h',
  blocks: text.split('\n\n').map((t) => ({ headings: ['Section'], text: t })),
});

describe('token-aware chunking', () => {
  it('counts tokens as o200k_base does', () => {
    expect(tokenCount('')).toBe(0);
    expect(tokenCount('Hello world.')).toBe(3);
    // Other scripts cost more tokens per character than English.
    expect(tokenCount('報告はどこにありますか')).toBeGreaterThan(3);
  });

  it('takes CHUNK_SIZE and CHUNK_OVERLAP as tokens from configuration', () => {
    const options = chunkingFromConfig(loadConfig({ CHUNK_SIZE: '64', CHUNK_OVERLAP: '16' }, process.cwd()));
    expect(options).toEqual({ size: 64, overlap: 16, unit: 'tokens' });
  });

  it('keeps every chunk within the token budget (give or take a token per join) and overlaps by whole sentences', () => {
    const sentences = Array.from(
      { length: 120 },
      (_, i) => `Sentence number ${i} explains how the ${i % 7 === 0 ? 'quarterly budget' : 'travel policy'} works in detail.`,
    );
    const paragraphs = Array.from({ length: 12 }, (_, p) => sentences.slice(p * 10, p * 10 + 10).join(' '));
    const options = { size: 80, overlap: 20, unit: 'tokens' as const };
    const chunks = chunkDocument(doc(paragraphs.join('\n\n')), options);
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks) {
      expect(tokenCount(c.text)).toBeLessThanOrEqual(80 + 4);
      expect(tokenCount(c.text)).toBeGreaterThan(20);
    }
    // Each chunk after the first starts with the last sentence(s) of the one before.
    for (let i = 1; i < chunks.length; i++) {
      const first = chunks[i].text.split(/(?<=\.)\s/)[0];
      expect(chunks[i - 1].text).toContain(first);
    }
    // Every sentence is somewhere.
    for (const s of sentences) expect(chunks.some((c) => c.text.includes(s))).toBe(true);
  });

  it('splits text by tokens, not characters: the same number of characters in Japanese makes more chunks than in English', () => {
    const english = 'The office opens at nine. '.repeat(80);
    const japanese = 'オフィスは九時に開きます。'.repeat(Math.ceil(english.length / 13)).slice(0, english.length);
    const options = { size: 100, overlap: 0, unit: 'tokens' as const };
    const en = chunkDocument(doc(english), options);
    const ja = chunkDocument(doc(japanese), options);
    expect(ja.length).toBeGreaterThan(en.length);
    for (const c of [...en, ...ja]) expect(tokenCount(c.text)).toBeLessThanOrEqual(104);
  });

  it('cuts a single word longer than the budget without exceeding it', () => {
    const blob = 'x'.repeat(5000);
    const chunks = chunkDocument(doc(blob), { size: 50, overlap: 0, unit: 'tokens' as const });
    expect(chunks.map((c) => c.text).join('')).toBe(blob);
    for (const c of chunks) expect(tokenCount(c.text)).toBeLessThanOrEqual(50);
  });
});
