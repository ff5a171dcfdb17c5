import { sentences } from '@rag/core';
import type { Block, Chunk, LoadedDocument } from '../types';
import { chunkDocument } from './chunk-document';

const doc = (blocks: Block[], id = 'guides/setup.md'): LoadedDocument => ({ id, source: id, title: 'Setup Guide', blocks, contentHash: 'hash-1' });

/** Deterministic pseudo-random numbers (mulberry32), so generated documents are the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VOCABULARY = ['server', 'queue', 'worker', 'index', 'vector', 'answer', 'policy', 'deploy', 'retry', 'cache', 'token', 'backup'];

/** A document of sections of paragraphs of unique, numbered sentences. */
function generatedDocument(seed: number): { doc: LoadedDocument; sentencesBySection: Map<string, string[]> } {
  const next = random(seed);
  const pick = (n: number) => Math.floor(next() * n);
  let counter = 0;
  const blocks: Block[] = [];
  const sentencesBySection = new Map<string, string[]>();
  const sectionCount = 1 + pick(4);
  for (let s = 0; s < sectionCount; s++) {
    const headings = s === 0 && pick(2) === 0 ? [] : ['Guide', `Part ${s}`];
    const key = headings.join(' > ');
    for (let p = 0, paragraphs = 1 + pick(5); p < paragraphs; p++) {
      const ss: string[] = [];
      for (let i = 0, n = 1 + pick(6); i < n; i++) {
        const words = Array.from({ length: 2 + pick(12) }, () => VOCABULARY[pick(VOCABULARY.length)]);
        ss.push(`Fact ${counter++} ${words.join(' ')}.`);
      }
      blocks.push({ headings, text: ss.join(' ') });
      sentencesBySection.set(key, [...(sentencesBySection.get(key) ?? []), ...ss]);
    }
  }
  return { doc: doc(blocks, `gen-${seed}.md`), sentencesBySection };
}

function sectionRuns(chunks: Chunk[]): Chunk[][] {
  const runs: Chunk[][] = [];
  for (const c of chunks) {
    const last = runs[runs.length - 1];
    if (last && last[0].heading === c.heading) last.push(c);
    else runs.push([c]);
  }
  return runs;
}

describe('chunkDocument', () => {
  it('keeps a small document in one chunk per section with the heading path joined by " > "', () => {
    const chunks = chunkDocument(
      doc([
        { headings: [], text: 'Preamble.' },
        { headings: ['Setup'], text: 'Install Node.' },
        { headings: ['Setup'], text: 'Run npm ci.' },
        { headings: ['Setup', 'Docker'], text: 'Build the image.' },
        { headings: ['Usage'], text: 'Start it.' },
      ]),
      { size: 500, overlap: 100 },
    );
    expect(chunks).toEqual([
      {
        id: 'guides/setup.md#0',
        docId: 'guides/setup.md',
        source: 'guides/setup.md',
        title: 'Setup Guide',
        heading: '',
        position: 0,
        text: 'Preamble.',
        contentHash: 'hash-1',
      },
      {
        id: 'guides/setup.md#1',
        docId: 'guides/setup.md',
        source: 'guides/setup.md',
        title: 'Setup Guide',
        heading: 'Setup',
        position: 1,
        text: 'Install Node.\n\nRun npm ci.',
        contentHash: 'hash-1',
      },
      {
        id: 'guides/setup.md#2',
        docId: 'guides/setup.md',
        source: 'guides/setup.md',
        title: 'Setup Guide',
        heading: 'Setup > Docker',
        position: 2,
        text: 'Build the image.',
        contentHash: 'hash-1',
      },
      {
        id: 'guides/setup.md#3',
        docId: 'guides/setup.md',
        source: 'guides/setup.md',
        title: 'Setup Guide',
        heading: 'Usage',
        position: 3,
        text: 'Start it.',
        contentHash: 'hash-1',
      },
    ]);
  });

  it('returns no chunks for a document without blocks', () => {
    expect(chunkDocument(doc([]), { size: 100, overlap: 10 })).toEqual([]);
  });

  it('packs paragraphs up to the size and starts a new chunk when the next one does not fit', () => {
    const a = 'A'.repeat(40);
    const b = 'B'.repeat(40);
    const c = 'C'.repeat(40);
    const chunks = chunkDocument(doc([a, b, c].map((text) => ({ headings: ['S'], text }))), { size: 90, overlap: 0 });
    // 40 + 2 + 40 = 82 fits in 90; adding the third would make 124.
    expect(chunks.map((ch) => ch.text)).toEqual([`${a}\n\n${b}`, c]);
  });

  it('repeats whole trailing sentences of the previous chunk, up to the overlap, at the start of the next', () => {
    const p1 = 'Alpha one is here. Beta two is here. Gamma three.';
    const p2 = 'Delta four is the next paragraph of text.';
    // 49 + 2 + 41 > 80, so p2 starts a new chunk; the last two sentences of p1 take exactly 30 characters.
    const chunks = chunkDocument(doc([p1, p2].map((text) => ({ headings: ['S'], text }))), { size: 80, overlap: 30 });
    expect(chunks.map((c) => c.text)).toEqual([p1, `Beta two is here. Gamma three.\n\n${p2}`]);
    expect(chunks.map((c) => c.id)).toEqual(['guides/setup.md#0', 'guides/setup.md#1']);
  });

  it('carries less overlap when the next paragraph leaves no room for all of it', () => {
    const p1 = 'Alpha one is here. Beta two is here. Gamma three.';
    const p2 = 'Delta four is the next paragraph of text.';
    // Only 70 - 41 - 2 = 27 characters are left beside p2: one sentence fits, not two.
    const chunks = chunkDocument(doc([p1, p2].map((text) => ({ headings: ['S'], text }))), { size: 70, overlap: 30 });
    expect(chunks.map((c) => c.text)).toEqual([p1, `Gamma three.\n\n${p2}`]);
  });

  it('carries no overlap when even the last sentence is longer than the overlap', () => {
    const p1 = 'This single sentence is quite a bit longer than the overlap.';
    const p2 = 'Second paragraph.';
    const chunks = chunkDocument(doc([p1, p2].map((text) => ({ headings: ['S'], text }))), { size: 70, overlap: 20 });
    expect(chunks.map((c) => c.text)).toEqual([p1, p2]);
  });

  it('never carries overlap into another section', () => {
    const chunks = chunkDocument(
      doc([
        { headings: ['One'], text: 'First section sentence.' },
        { headings: ['Two'], text: 'Second section sentence.' },
      ]),
      { size: 30, overlap: 30 },
    );
    expect(chunks.map((c) => [c.heading, c.text])).toEqual([
      ['One', 'First section sentence.'],
      ['Two', 'Second section sentence.'],
    ]);
  });

  it('keeps two sections apart even when both would fit in one chunk', () => {
    const chunks = chunkDocument(
      doc([
        { headings: ['A'], text: 'a1' },
        { headings: ['A', 'B'], text: 'b1' },
        { headings: ['A'], text: 'a2' },
      ]),
      { size: 1000, overlap: 100 },
    );
    expect(chunks.map((c) => [c.heading, c.text])).toEqual([
      ['A', 'a1'],
      ['A > B', 'b1'],
      ['A', 'a2'],
    ]);
  });

  it('splits a paragraph larger than the size at sentence ends', () => {
    const text = 'First sentence here. Second sentence here. Third sentence here. Fourth sentence here.';
    const chunks = chunkDocument(doc([{ headings: [], text }]), { size: 45, overlap: 0 });
    expect(chunks.map((c) => c.text)).toEqual(['First sentence here. Second sentence here.', 'Third sentence here. Fourth sentence here.']);
  });

  it('splits a sentence larger than the size at word boundaries', () => {
    const text = 'one two three four five six seven eight nine ten eleven twelve';
    const chunks = chunkDocument(doc([{ headings: [], text }]), { size: 20, overlap: 0 });
    for (const c of chunks) expect(c.text.length).toBeLessThanOrEqual(20);
    expect(chunks.map((c) => c.text)).toEqual(['one two three four', 'five six seven eight', 'nine ten eleven', 'twelve']);
  });

  it('cuts a word larger than the size into pieces of the size', () => {
    const word = 'x'.repeat(25);
    const chunks = chunkDocument(doc([{ headings: [], text: `short ${word} end` }]), { size: 10, overlap: 0 });
    expect(chunks.map((c) => c.text)).toEqual(['short', 'xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxx end']);
  });

  it('keeps the line breaks of a list, table or code block too large for one chunk', () => {
    const items = Array.from({ length: 8 }, (_, i) => `- step ${i} of the upgrade`);
    const chunks = chunkDocument(doc([{ headings: ['Upgrade'], text: items.join('\n') }]), { size: 80, overlap: 0 });
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c.text.length).toBeLessThanOrEqual(80);
    expect(chunks.flatMap((c) => c.text.split('\n'))).toEqual(items);

    const code = Array.from({ length: 6 }, (_, i) => `const value${i} = compute(${i});`).join('\n');
    const codeChunks = chunkDocument(doc([{ headings: [], text: code }]), { size: 70, overlap: 0 });
    expect(codeChunks.map((c) => c.text).join('\n')).toBe(code);
  });

  it('carries whole rows of a large table, on their own lines, as overlap', () => {
    const rows = ['Name | Port', ...Array.from({ length: 6 }, (_, i) => `svc${i} | 80${i}0`)];
    const chunks = chunkDocument(doc([{ headings: [], text: rows.join('\n') }]), { size: 50, overlap: 25 });
    expect(chunks.length).toBeGreaterThan(1);
    for (let i = 1; i < chunks.length; i++) {
      const prevLines = chunks[i - 1].text.split('\n');
      const lines = chunks[i].text.split(/\n+/);
      for (const line of lines) expect(rows).toContain(line);
      // The first line of a chunk repeats the last row of the previous one.
      expect(lines[0]).toBe(prevLines[prevLines.length - 1]);
    }
  });

  it('never makes a chunk longer than the size, even with a large overlap', () => {
    const text = Array.from({ length: 30 }, (_, i) => `Sentence number ${i} is short.`).join(' ');
    for (const [size, overlap] of [
      [40, 39],
      [60, 200],
      [100, 50],
    ]) {
      const chunks = chunkDocument(
        doc([
          { headings: ['S'], text },
          { headings: ['S'], text: 'Tail paragraph.' },
        ]),
        { size, overlap },
      );
      expect(chunks.length).toBeGreaterThan(1);
      for (const c of chunks) expect(c.text.length).toBeLessThanOrEqual(size);
    }
  });

  describe('on generated documents', () => {
    const options = [
      { size: 120, overlap: 0 },
      { size: 120, overlap: 40 },
      { size: 300, overlap: 100 },
      { size: 60, overlap: 30 },
    ];
    const seeds = Array.from({ length: 25 }, (_, i) => i + 1);

    it.each(options)('respects size %p, numbers chunks in order and labels each with its document', (opts) => {
      for (const seed of seeds) {
        const { doc: d } = generatedDocument(seed);
        const chunks = chunkDocument(d, opts);
        chunks.forEach((c, i) => {
          expect(c.id).toBe(`${d.id}#${i}`);
          expect(c.position).toBe(i);
          expect(c).toMatchObject({ docId: d.id, source: d.source, title: d.title, contentHash: d.contentHash });
          expect(c.text.length).toBeLessThanOrEqual(opts.size);
          expect(c.text.trim()).toBe(c.text);
          expect(c.text.length).toBeGreaterThan(0);
        });
      }
    });

    // Generated sentences are at most 100 characters, so these sizes never split one.
    it.each(options.filter((o) => o.size >= 120))('keeps every sentence, in order, in a chunk of its own section %p', (opts) => {
      for (const seed of seeds) {
        const { doc: d, sentencesBySection } = generatedDocument(seed);
        const chunks = chunkDocument(d, opts);
        const seenBySection = new Map<string, string[]>();
        for (const c of chunks) {
          const ss = sentences(c.text);
          const seen = seenBySection.get(c.heading) ?? [];
          // Sentences already seen (the overlap) come first; the rest are new.
          const fresh = ss.filter((s) => !seen.includes(s));
          seenBySection.set(c.heading, [...seen, ...fresh]);
        }
        expect(new Map([...seenBySection].map(([k, v]) => [k, v]))).toEqual(sentencesBySection);
      }
    });

    it.each(options.filter((o) => o.overlap > 0))('overlaps chunks only within a section, by whole trailing sentences of the previous chunk %p', (opts) => {
      let overlapsSeen = 0;
      for (const seed of seeds) {
        const { doc: d } = generatedDocument(seed);
        const runs = sectionRuns(chunkDocument(d, opts));
        for (let r = 1; r < runs.length; r++) {
          const before = new Set(runs[r - 1].flatMap((c) => sentences(c.text)));
          expect(sentences(runs[r][0].text).filter((s) => before.has(s))).toEqual([]);
        }
        for (const run of runs) {
          for (let i = 1; i < run.length; i++) {
            const prev = sentences(run[i - 1].text);
            const next = sentences(run[i].text);
            const shared = next.filter((s) => prev.includes(s));
            // The shared sentences open the next chunk and close the previous one.
            expect(next.slice(0, shared.length)).toEqual(shared);
            expect(prev.slice(prev.length - shared.length)).toEqual(shared);
            expect(shared.join(' ').length).toBeLessThanOrEqual(opts.overlap);
            if (shared.length > 0) {
              overlapsSeen++;
              // The overlap is a block of its own, before the new text.
              const carried = run[i].text.split('\n\n')[0];
              expect(sentences(carried)).toEqual(shared);
              expect(carried.length).toBeLessThanOrEqual(opts.overlap);
            }
          }
        }
      }
      expect(overlapsSeen).toBeGreaterThan(0);
    });

    it('shares no sentences between chunks when the overlap is 0', () => {
      for (const seed of seeds) {
        const chunks = chunkDocument(generatedDocument(seed).doc, { size: 120, overlap: 0 });
        const all = chunks.flatMap((c) => sentences(c.text));
        expect(new Set(all).size).toBe(all.length);
      }
    });
  });
});
