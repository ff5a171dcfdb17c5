/**
 * Retrieval latency at 10k and 100k chunks: p50/p99 of the vector, full-text
 * and hybrid searches the worker runs for every question, on the vector stores
 * that run here (LanceDB on local disk; Qdrant needs a server — set QDRANT_URL
 * to include it). Chunks are synthetic text from a 5,000-word vocabulary,
 * embedded by the local embedder; the collection is compacted after loading,
 * as the CLI does.
 *
 *   npm run bench -- retrieval [--queries N] [--sizes 10000,100000]
 */
import { LanceDbStore, LocalHashEmbedder, QdrantStore, searchableText, type EmbeddedChunk, type VectorStore } from '@rag/retrieval';
import { tempDir } from '@rag/testing';
import { latencyStats, numberFlag, type Scenario } from './scenario';

const CHUNKS_PER_DOCUMENT = 100;

/** A deterministic pseudo-random generator, so every run indexes the same corpus. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rng = random(7);
const VOCABULARY = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}${'aeiou'[i % 5]}${'rstln'[(i >> 3) % 5]}`);
/** Zipf-like: common words are common. */
const word = () => VOCABULARY[Math.floor(VOCABULARY.length * rng() ** 3)];
const sentence = (n: number) => Array.from({ length: n }, word).join(' ');

async function load(store: VectorStore, embedder: LocalHashEmbedder, chunks: number): Promise<number> {
  const started = performance.now();
  await store.ensureCollection('default', 'bench', embedder);
  for (let d = 0; d < chunks / CHUNKS_PER_DOCUMENT; d++) {
    if (d % 100 === 0) process.stderr.write(`  ${d * CHUNKS_PER_DOCUMENT} chunks in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    const docId = `doc-${d}.md`;
    const batch: EmbeddedChunk[] = Array.from({ length: CHUNKS_PER_DOCUMENT }, (_, position) => {
      const chunk = {
        id: `${docId}#${position}`,
        docId,
        source: docId,
        title: `Document ${d}`,
        heading: `Section ${position % 7}`,
        position,
        text: sentence(60),
        contentHash: `h${d}`,
      };
      return { ...chunk, vector: embedder.embedOne(searchableText(chunk)) };
    });
    await store.replaceDocument('default', 'bench', docId, batch);
  }
  await store.compact('default', 'bench');
  return (performance.now() - started) / 1000;
}

async function measure(store: VectorStore, embedder: LocalHashEmbedder, queries: number) {
  const times = { vector: [] as number[], text: [] as number[], hybrid: [] as number[] };
  for (let i = 0; i < queries; i++) {
    const text = sentence(6);
    const vector = embedder.embedOne(text);
    let t = performance.now();
    await store.searchVector('default', 'bench', vector, 20);
    times.vector.push(performance.now() - t);
    t = performance.now();
    await store.searchText('default', 'bench', text, 20);
    times.text.push(performance.now() - t);
    t = performance.now();
    await store.hybridSearch('default', 'bench', { text, vector }, 5);
    times.hybrid.push(performance.now() - t);
  }
  return { vector: latencyStats(times.vector), text: latencyStats(times.text), hybrid: latencyStats(times.hybrid) };
}

export const retrievalScenario: Scenario = {
  name: 'retrieval',
  async run(args) {
    const queries = numberFlag(args, '--queries', 200);
    const i = args.indexOf('--sizes');
    const sizes = (i >= 0 ? args[i + 1] : '10000,100000').split(',').map(Number);
    const embedder = new LocalHashEmbedder(384);
    const stores: [string, () => Promise<{ store: VectorStore; done: () => Promise<void> }>][] = [
      [
        'LanceDB (local disk)',
        async () => {
          const dir = tempDir('rag-bench-retrieval-');
          const store = await LanceDbStore.open(dir.path);
          return { store, done: async () => (await store.close(), dir.remove()) };
        },
      ],
    ];
    if (process.env.QDRANT_URL) {
      stores.push([
        `Qdrant (${process.env.QDRANT_URL})`,
        async () => {
          const store = new QdrantStore({ url: process.env.QDRANT_URL ?? '', apiKey: process.env.QDRANT_API_KEY });
          return { store, done: async () => (await store.deleteCollection('default', 'bench'), await store.close()) };
        },
      ]);
    }
    const rows: Record<string, unknown>[] = [];
    for (const [name, open] of stores) {
      for (const size of sizes) {
        process.stderr.write(`bench retrieval: ${name}, ${size} chunks…\n`);
        const { store, done } = await open();
        try {
          const loadSeconds = await load(store, embedder, size);
          process.stderr.write(`bench retrieval: loaded and compacted in ${loadSeconds.toFixed(1)} s; querying…\n`);
          rows.push({ store: name, chunks: size, load_seconds: loadSeconds, ...(await measure(store, embedder, queries)) });
        } finally {
          await done();
        }
      }
    }
    const ms = (v: unknown) => `${(v as number).toFixed(1)} ms`;
    const lines = [
      `${queries} queries of 6 words per size against ${CHUNKS_PER_DOCUMENT}-chunk documents of 60-word chunks (5,000-word vocabulary, local embedder, 384 dimensions), top 20 (vector, text) and top 5 fused (hybrid). Qdrant: ${process.env.QDRANT_URL ? 'included' : 'no server here (set QDRANT_URL to include it)'}.`,
      '',
      '| store | chunks | load + compact | vector p50 / p99 | full-text p50 / p99 | hybrid p50 / p99 |',
      '|---|---|---|---|---|---|',
      ...rows.map((r) => {
        const s = (k: string) => {
          const v = r[k] as { p50: number; p99: number };
          return `${ms(v.p50)} / ${ms(v.p99)}`;
        };
        return `| ${r.store as string} | ${(r.chunks as number).toLocaleString('en')} | ${(r.load_seconds as number).toFixed(1)} s | ${s('vector')} | ${s('text')} | ${s('hybrid')} |`;
      }),
    ];
    return { markdown: lines.join('\n'), data: { queries, rows } };
  },
};
