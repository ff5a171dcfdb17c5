import { ExtractiveAnswerer, NO_ANSWER_TEXT, type Answer, type AnswerInput, type Answerer } from '@rag/llm-client';
import { isPermanent } from '@rag/core';
import { CollectionNotFoundError, EmbedderMismatchError } from '../errors';
import { FeatureRarity, RARITY_SAMPLE } from '../embed/feature-rarity';
import { LocalHashEmbedder } from '../embed/local-hash.embedder';
import { reciprocalRankFusion } from '../fuse/reciprocal-rank-fusion';
import type { Chunk, CollectionInfo, Embedder, EmbedderInfo, HybridQuery, SearchFilter, SearchHit, StoredDocument, VectorStore } from '../types';
import { answerQuestion, retrieve } from './answer-question';

const chunk = (id: string, text: string, extra: Partial<Chunk> = {}): Chunk => {
  const docId = id.split('#')[0];
  return { id, docId, source: docId, title: `Title of ${docId}`, heading: 'Section', position: Number(id.split('#')[1]), text, contentHash: 'h', ...extra };
};

interface SearchCall {
  kind: 'vector' | 'text' | 'hybrid';
  collection: string;
  query: number[] | string | HybridQuery;
  limit: number;
  filter?: SearchFilter;
}

/**
 * A store that answers searches from fixed ranked lists (hybrid search fuses
 * them by reciprocal rank, as the real stores do) and records how it was asked.
 */
class FixedResultsStore implements VectorStore {
  readonly backend = 'fixed';
  readonly calls: SearchCall[] = [];
  readonly infoRequests: string[] = [];
  /** The tenant of every call, in order. */
  readonly tenants: string[] = [];
  constructor(
    private readonly collections: string[],
    private readonly dense: SearchHit[],
    private readonly text: SearchHit[],
    private readonly onSearch?: () => void,
    private readonly builtWith: EmbedderInfo = { id: 'local-hash-v4-16', dimension: 16 },
  ) {}
  async ensureCollection(): Promise<void> {
    throw new Error('not used');
  }
  async collectionInfo(tenant: string, collection: string): Promise<CollectionInfo | undefined> {
    this.tenants.push(tenant);
    this.infoRequests.push(collection);
    return this.collections.includes(collection) ? { name: collection, embedder: this.builtWith } : undefined;
  }
  async replaceDocument(): Promise<void> {
    throw new Error('not used');
  }
  async documentChunks(): Promise<never> {
    throw new Error('not used');
  }
  async collectionVersions(): Promise<never> {
    throw new Error('not used');
  }
  async deleteDocument(): Promise<void> {
    throw new Error('not used');
  }
  async deleteCollection(): Promise<boolean> {
    throw new Error('not used');
  }
  async documentHash(): Promise<string | undefined> {
    throw new Error('not used');
  }
  async listDocuments(): Promise<StoredDocument[]> {
    return [];
  }
  async listCollections(): Promise<string[]> {
    return this.collections;
  }
  async hasCollection(_tenant: string, collection: string): Promise<boolean> {
    return this.collections.includes(collection);
  }
  async sampleChunks(tenant: string, _collection: string, limit: number): Promise<Chunk[]> {
    this.tenants.push(tenant);
    return [...this.dense, ...this.text].map((hit) => hit.chunk).slice(0, limit);
  }
  async searchVector(tenant: string, collection: string, vector: number[], limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    this.tenants.push(tenant);
    this.calls.push({ kind: 'vector', collection, query: vector, limit, filter });
    this.onSearch?.();
    return this.dense.slice(0, limit);
  }
  async searchText(tenant: string, collection: string, text: string, limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    this.tenants.push(tenant);
    this.calls.push({ kind: 'text', collection, query: text, limit, filter });
    this.onSearch?.();
    return this.text.slice(0, limit);
  }
  async hybridSearch(tenant: string, collection: string, query: HybridQuery, limit: number, filter?: SearchFilter): Promise<SearchHit[]> {
    this.tenants.push(tenant);
    this.calls.push({ kind: 'hybrid', collection, query, limit, filter });
    this.onSearch?.();
    return reciprocalRankFusion([this.dense, this.text], limit);
  }
  async compact(): Promise<void> {
    // nothing to compact in memory
  }
  async close(): Promise<void> {
    // nothing to release
  }
}

/** An answerer that replies with a given text and citations, and keeps what it was given. */
class ScriptedAnswerer implements Answerer {
  readonly backend = 'scripted';
  readonly inputs: AnswerInput[] = [];
  constructor(
    private readonly reply: Pick<Answer, 'text' | 'cited'>,
    private readonly delayMs = 0,
  ) {}
  async answer(input: AnswerInput): Promise<Answer> {
    this.inputs.push(input);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    return { ...this.reply, model: 'scripted-1', usage: { prompt_tokens: 11, completion_tokens: 7 } };
  }
}

const A = chunk('a.md#0', 'Alpha text.');
const B = chunk('b.md#0', 'Beta text.', { title: '', heading: '' });
const C = chunk('c.md#2', 'Gamma text.');
const D = chunk('d.md#1', 'Delta text.');
const hits = (...cs: Chunk[]): SearchHit[] => cs.map((c, i) => ({ chunk: c, score: 1 - i / 10 }));

// Fused order: A (1/61 + 1/62), C (1/63 + 1/61), B (1/62), D (1/63).
const dense = hits(A, B, C);
const text = hits(C, A, D);

describe('retrieve', () => {
  const embedder = new LocalHashEmbedder(16);

  it('throws CollectionNotFoundError, a permanent error, before searching an unknown collection', async () => {
    const store = new FixedResultsStore(['docs'], dense, text);
    const error = await retrieve({ store, embedder }, { tenant: 'default', query: 'q', collection: 'missing', topK: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CollectionNotFoundError);
    expect((error as CollectionNotFoundError).collection).toBe('missing');
    expect((error as Error).message).toContain('"missing"');
    expect(isPermanent(error)).toBe(true);
    expect(store.calls).toEqual([]);
  });

  it.each([
    ['another embedder of the same size', { id: 'openai-text-embedding-3-small-16', dimension: 16 }],
    ['the same embedder family with another size', { id: 'local-hash-v4-32', dimension: 32 }],
    ['the local embedder before Porter2 stems (its vectors differ)', { id: 'local-hash-16', dimension: 16 }],
    ['the local embedder before sublinear term frequency (its vectors differ)', { id: 'local-hash-v2-16', dimension: 16 }],
  ])('throws EmbedderMismatchError, a permanent error, before searching a collection built with %s', async (_, builtWith) => {
    const store = new FixedResultsStore(['docs'], dense, text, undefined, builtWith);
    const error = await retrieve({ store, embedder }, { tenant: 'default', query: 'q', collection: 'docs', topK: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbedderMismatchError);
    expect(isPermanent(error)).toBe(true);
    expect((error as Error).message).toContain(builtWith.id);
    expect((error as Error).message).toContain('local-hash-v4-16');
    // What to do: rebuild the collection with the configured embedder.
    expect((error as Error).message).toContain('rag-ingest reindex --collection docs');
    expect(store.calls).toEqual([]);
  });

  it('searches once, hybrid, by the embedded query and by its text, with the filter and topK, and returns the fused ranking', async () => {
    const store = new FixedResultsStore(['docs'], dense, text);
    const filter = { sources: ['a.md', 'c.md'] };
    const fused = await retrieve({ store, embedder }, { tenant: 'default', query: 'alpha gamma', collection: 'docs', topK: 3, filter });
    expect(fused.map((h) => h.chunk.id)).toEqual(['a.md#0', 'c.md#2', 'b.md#0']);
    expect(fused[0].score).toBeCloseTo(1 / 61 + 1 / 62, 12);
    expect(store.infoRequests).toEqual(['docs']);
    const rarity = await FeatureRarity.count(embedder, await store.sampleChunks('default', 'docs', RARITY_SAMPLE));
    expect(store.calls).toEqual([
      {
        kind: 'hybrid',
        collection: 'docs',
        // The query weighted by its features' rarity among the collection's chunks (embed/feature-rarity.ts).
        query: { text: 'alpha gamma', vector: embedder.embedQuery('alpha gamma', rarity.weight), denseWeight: (embedder as Embedder).fusionWeight },
        limit: 3,
        filter,
      },
    ]);
  });

  it("passes a dense weight set in the deps (rag-ingest eval --dense-weights) to the hybrid search, instead of the embedder's", async () => {
    const store = new FixedResultsStore(['docs'], dense, text);
    await retrieve({ store, embedder, denseWeight: 2.5 }, { tenant: 'default', query: 'alpha', collection: 'docs', topK: 3 });
    expect(store.calls.map((c) => (c.query as HybridQuery).denseWeight)).toEqual([2.5]);
  });

  it("asks the store in the question's tenant, for every call", async () => {
    const store = new FixedResultsStore(['docs'], dense, text);
    await retrieve({ store, embedder }, { tenant: 'acme', query: 'alpha', collection: 'docs', topK: 3 });
    // The collection's embedder, its sample of chunks for the query's weights, the search.
    expect(store.tenants).toEqual(['acme', 'acme', 'acme']);
  });

  it('asks the store for exactly topK results (the store chooses its own candidate depth)', async () => {
    const store = new FixedResultsStore(['docs'], dense, text);
    const fused = await retrieve({ store, embedder }, { tenant: 'default', query: 'q', collection: 'docs', topK: 8 });
    expect(store.calls.map((c) => [c.kind, c.limit])).toEqual([['hybrid', 8]]);
    expect(fused.map((h) => h.chunk.id)).toEqual(['a.md#0', 'c.md#2', 'b.md#0', 'd.md#1']);
  });
});

describe('answerQuestion', () => {
  const embedder = new LocalHashEmbedder(16);

  it('hands the fused passages, numbered from 1, to the answerer with the query and signal', async () => {
    const store = new FixedResultsStore(['docs'], dense, text);
    const answerer = new ScriptedAnswerer({ text: NO_ANSWER_TEXT, cited: [] });
    const signal = new AbortController().signal;
    await answerQuestion({ store, embedder, answerer }, { tenant: 'default', query: 'what?', collection: 'docs', topK: 4, signal });
    expect(answerer.inputs).toHaveLength(1);
    expect(answerer.inputs[0].query).toBe('what?');
    expect(answerer.inputs[0].signal).toBe(signal);
    expect(answerer.inputs[0].passages).toEqual([
      { n: 1, text: 'Alpha text.', source: 'a.md', title: 'Title of a.md', heading: 'Section' },
      { n: 2, text: 'Gamma text.', source: 'c.md', title: 'Title of c.md', heading: 'Section' },
      { n: 3, text: 'Beta text.', source: 'b.md', title: '', heading: '' },
      { n: 4, text: 'Delta text.', source: 'd.md', title: 'Title of d.md', heading: 'Section' },
    ]);
  });

  it('turns the cited passages into citations numbered in order of use, and renumbers the markers', async () => {
    const store = new FixedResultsStore(['docs'], dense, text);
    const answerer = new ScriptedAnswerer({ text: 'Beta fact. [3] Alpha fact. [1] More beta. [3]', cited: [3, 1] });
    const result = await answerQuestion({ store, embedder, answerer }, { tenant: 'default', query: 'q', collection: 'docs', topK: 4 });
    expect(result.answer).toBe('Beta fact. [1] Alpha fact. [2] More beta. [1]');
    expect(result.citations).toEqual([
      { id: 'b.md#0', source: 'b.md', title: undefined, heading: undefined, position: 0, chunk: 'Beta text.', score: Number((1 / 62).toFixed(6)) },
      {
        id: 'a.md#0',
        source: 'a.md',
        title: 'Title of a.md',
        heading: 'Section',
        position: 0,
        chunk: 'Alpha text.',
        score: Number((1 / 61 + 1 / 62).toFixed(6)),
      },
    ]);
  });

  it('cites a passage once even if the answerer lists it twice, and ignores numbers it was never given', async () => {
    const store = new FixedResultsStore(['docs'], dense, text);
    const answerer = new ScriptedAnswerer({ text: 'Gamma. [2] Again. [2]', cited: [2, 2, 9, 0] });
    const result = await answerQuestion({ store, embedder, answerer }, { tenant: 'default', query: 'q', collection: 'docs', topK: 2 });
    expect(result.citations.map((c) => c.id)).toEqual(['c.md#2']);
    expect(result.answer).toBe('Gamma. [1] Again. [1]');
  });

  it('reports the backends, model and usage of the run', async () => {
    const store = new FixedResultsStore(['docs'], dense, text);
    const answerer = new ScriptedAnswerer({ text: NO_ANSWER_TEXT, cited: [] });
    const result = await answerQuestion({ store, embedder, answerer }, { tenant: 'default', query: 'q', collection: 'docs', topK: 2 });
    expect(result.backends).toEqual({ vector_store: 'fixed', embedder: 'local-hash-v4-16', llm: 'scripted' });
    expect(result.model).toBe('scripted-1');
    expect(result.usage).toEqual({ prompt_tokens: 11, completion_tokens: 7 });
    expect(result.citations).toEqual([]);
    expect(result.answer).toBe(NO_ANSWER_TEXT);
  });

  it('measures queued, retrieval and generation time', async () => {
    const store = new FixedResultsStore(['docs'], dense, text);
    const answerer = new ScriptedAnswerer({ text: NO_ANSWER_TEXT, cited: [] }, 30);
    const enqueuedAt = Date.now() - 5_000;
    const { timings } = await answerQuestion({ store, embedder, answerer }, { tenant: 'default', query: 'q', collection: 'docs', topK: 2, enqueuedAt });
    expect(timings.queued_ms).toBeGreaterThanOrEqual(5_000);
    expect(timings.queued_ms).toBeLessThan(6_000);
    expect(timings.generate_ms).toBeGreaterThanOrEqual(25);
    expect(timings.retrieve_ms).toBeGreaterThanOrEqual(0);
    expect(timings.total_ms).toBe(timings.queued_ms + timings.retrieve_ms + timings.generate_ms);

    const unqueued = await answerQuestion({ store, embedder, answerer }, { tenant: 'default', query: 'q', collection: 'docs', topK: 2 });
    expect(unqueued.timings.queued_ms).toBe(0);
    expect(unqueued.timings.total_ms).toBe(unqueued.timings.retrieve_ms + unqueued.timings.generate_ms);
  });

  it('stops before answering when the job is cancelled during retrieval', async () => {
    const controller = new AbortController();
    const store = new FixedResultsStore(['docs'], dense, text, () => controller.abort(new Error('cancelled by user')));
    const answerer = new ScriptedAnswerer({ text: 'x [1]', cited: [1] });
    await expect(
      answerQuestion({ store, embedder, answerer }, { tenant: 'default', query: 'q', collection: 'docs', topK: 2, signal: controller.signal }),
    ).rejects.toThrow('cancelled by user');
    expect(answerer.inputs).toEqual([]);
  });

  it('with the extractive answerer, cites the retrieved chunk that holds the answer', async () => {
    const leave = chunk('hr/leave.md#0', 'Employees get 25 vacation days per year. Requests go to your manager.', { title: 'Leave', heading: 'Vacation' });
    const parking = chunk('facilities.md#0', 'Parking is free behind building B.', { title: 'Facilities', heading: '' });
    const store = new FixedResultsStore(['docs'], hits(parking, leave), hits(leave, parking));
    const result = await answerQuestion(
      { store, embedder, answerer: new ExtractiveAnswerer() },
      { tenant: 'default', query: 'How many vacation days do I get?', collection: 'docs', topK: 2 },
    );
    expect(result.answer).toBe('Employees get 25 vacation days per year. [1]');
    expect(result.citations).toHaveLength(1);
    expect(result.citations[0]).toMatchObject({ id: 'hr/leave.md#0', source: 'hr/leave.md', title: 'Leave', heading: 'Vacation' });
    expect(result.backends.llm).toBe('extractive');
  });
});

describe('answerQuestion citation markers', () => {
  it('renumbers grouped markers and leaves numbers that are not cited passages alone', async () => {
    const hits = [1, 2, 3].map((n) => ({ chunk: chunk(`d${n}.md#0`, `text ${n}`), score: 1 / n }));
    const store = new FixedResultsStore(['c'], hits, hits);
    const answerer = new ScriptedAnswerer({ text: 'First [3]. Both [2, 3]. Year [2024]. Mixed [3, 9].', cited: [3, 2] });
    const result = await answerQuestion({ store, embedder: new LocalHashEmbedder(16), answerer }, { tenant: 'default', query: 'q', collection: 'c', topK: 3 });
    expect(result.citations.map((c) => c.source)).toEqual(['d3.md', 'd2.md']);
    expect(result.answer).toBe('First [1]. Both [2, 1]. Year [2024]. Mixed [3, 9].');
  });
});

describe('answerQuestion streamed tokens', () => {
  it('streams the markers the stored answer has, and passes max tokens and temperature to the answerer', async () => {
    const hits = [1, 2, 3].map((n) => ({ chunk: chunk(`d${n}.md#0`, `text ${n}`), score: 1 / n }));
    const store = new FixedResultsStore(['c'], hits, hits);
    const pieces = ['Third [', '3]. Both [2,', ' 3]. Year [2024].'];
    const answerer = new (class extends ScriptedAnswerer {
      override async answer(input: AnswerInput): Promise<Answer> {
        for (const piece of pieces) input.onToken?.(piece);
        return super.answer(input);
      }
    })({ text: pieces.join(''), cited: [3, 2] });
    const tokens: string[] = [];
    const result = await answerQuestion(
      { store, embedder: new LocalHashEmbedder(16), answerer },
      { tenant: 'default', query: 'q', collection: 'c', topK: 3, onToken: (t) => tokens.push(t), maxTokens: 42, temperature: 0.7 },
    );
    expect(result.answer).toBe('Third [1]. Both [2, 1]. Year [2024].');
    expect(tokens.join('')).toBe(result.answer);
    expect(answerer.inputs[0]).toMatchObject({ maxTokens: 42, temperature: 0.7 });
  });
});
