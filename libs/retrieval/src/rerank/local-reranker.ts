import { ENGLISH_STOP_WORDS, stem, words } from '@rag/core';
import type { RerankOptions, RerankPassage, RerankResult, Reranker } from './reranker';

/** How much each signal counts; see LocalReranker. */
export interface LocalRerankWeights {
  /** Closeness of pairs of query terms in the passage (1 when adjacent), rarity-weighted. */
  proximity: number;
  /** Share of the query's terms in the passage's title and heading path, rarity-weighted. */
  fields: number;
  /** The fused order's prior: the top candidate gets this much, the n-th this / log2(n + 1). */
  prior: number;
}

/**
 * The weights RERANKER=local uses: the fused rank counts as much as a
 * passage whose query terms all sit next to each other and all appear in its
 * title or heading path (docs/benchmarks.md, "Retrieval quality", gives the
 * figures for these and their neighbours).
 */
export const LOCAL_RERANK_WEIGHTS: LocalRerankWeights = { proximity: 0.5, fields: 0.5, prior: 1 };

/** A query term, how many candidates have it, and its weight from that. */
interface QueryTerm {
  term: string;
  df: number;
  weight: number;
}

/** Words between a passage's title, heading path and text: no pair counts as close across them. */
const FIELD_GAP = 10;

/** A passage's words as stems, each with its positions, and the stems of its title and heading path. */
interface Analysed {
  positions: Map<string, number[]>;
  fields: Set<string>;
}

/** The content stems of `text`, each with its word positions (stop words keep their place). */
function analyse(text: string, wanted: ReadonlySet<string>, into: Map<string, number[]>, offset: number, stems: Map<string, string>): number {
  const list = words(text);
  list.forEach((word, i) => {
    if (ENGLISH_STOP_WORDS.has(word)) return;
    let s = stems.get(word);
    if (s === undefined) {
      s = stem(word);
      stems.set(word, s);
    }
    if (!wanted.has(s)) return;
    const at = into.get(s);
    if (at) at.push(offset + i);
    else into.set(s, [offset + i]);
  });
  return offset + list.length;
}

/** The smallest distance between a position of `a` and one of `b` (both ascending), in one merge pass. */
export function minDistance(a: readonly number[], b: readonly number[]): number {
  let i = 0;
  let j = 0;
  let best = Infinity;
  while (i < a.length && j < b.length) {
    const d = a[i] - b[j];
    best = Math.min(best, Math.abs(d));
    if (d < 0) i++;
    else j++;
  }
  return best;
}

/** Distinct content stems of the query, in order of first appearance. */
export function queryTerms(query: string): string[] {
  return [
    ...new Set(
      words(query)
        .filter((w) => !ENGLISH_STOP_WORDS.has(w))
        .map(stem),
    ),
  ];
}

/**
 * Evidence of relevance that neither retriever weighs (both already count
 * the query's terms in the chunk): how close together the query's terms
 * are, and whether they are in the title or heading path. Each signal is in
 * [0, 1], each term weighted by its rarity among the passages: the square
 * root of BM25's IDF over the candidate pool (a term every candidate has
 * tells them apart by nothing; the root, because a pool drawn for this query
 * overstates how rare the question's own wording is):
 * - proximity: for each pair of query terms both present, 1 / their
 *   smallest distance in words (1 when adjacent, as in a phrase), weighted
 *   by the lesser weight of the two, as a share of all pairs;
 * - fields: the weighted share of the query's terms in the title and
 *   heading path.
 * Linear in the passages' length; the query's pairs are few.
 */
export function lexicalScores(query: string, passages: readonly RerankPassage[], weights: LocalRerankWeights = LOCAL_RERANK_WEIGHTS): number[] {
  const qterms = queryTerms(query);
  const wanted = new Set(qterms);
  // Words repeat across the passages: each is stemmed once.
  const stems = new Map<string, string>();
  const analysed: Analysed[] = passages.map((p) => {
    const positions = new Map<string, number[]>();
    let offset = 0;
    // A gap between fields, so that no pair is adjacent across them.
    if (p.title) offset = analyse(p.title, wanted, positions, offset, stems) + FIELD_GAP;
    if (p.heading) offset = analyse(p.heading, wanted, positions, offset, stems) + FIELD_GAP;
    const fields = new Set(positions.keys());
    analyse(p.text, wanted, positions, offset, stems);
    return { positions, fields };
  });
  const n = passages.length;
  const terms: QueryTerm[] = qterms
    .map((term) => {
      const df = analysed.filter((a) => a.positions.has(term)).length;
      return { term, df, weight: Math.sqrt(Math.log(1 + (n - df + 0.5) / (df + 0.5))) };
    })
    .filter((t) => t.df > 0);
  const weightSum = terms.reduce((sum, t) => sum + t.weight, 0);
  let pairSum = 0;
  for (let i = 0; i < terms.length; i++) for (let j = i + 1; j < terms.length; j++) pairSum += Math.min(terms[i].weight, terms[j].weight);
  return analysed.map(({ positions, fields }) => {
    if (weightSum === 0) return 0;
    let inFields = 0;
    let close = 0;
    const present = terms.filter((t) => positions.has(t.term));
    for (const t of present) if (fields.has(t.term)) inFields += t.weight;
    for (let i = 0; i < present.length; i++) {
      for (let j = i + 1; j < present.length; j++) {
        const d = minDistance(positions.get(present[i].term) ?? [], positions.get(present[j].term) ?? []);
        close += Math.min(present[i].weight, present[j].weight) / Math.max(1, d);
      }
    }
    return (pairSum > 0 ? (weights.proximity * close) / pairSum : 0) + (weights.fields * inFields) / weightSum;
  });
}

/**
 * RERANKER=local: a reranker with no model and no network. Each fused
 * candidate keeps a prior from its fused rank (weights.prior / log2(rank + 1),
 * a DCG-style discount) and gains its lexicalScores, so the reranker adjusts
 * the fused order rather than replacing it: a candidate with the query's rare
 * words close together (a phrase) or in its title or heading path rises above
 * ones that only share its common words. Ties keep the fused order.
 */
export class LocalReranker implements Reranker {
  readonly id = 'local';

  constructor(private readonly weights: LocalRerankWeights = LOCAL_RERANK_WEIGHTS) {}

  async rerank(query: string, documents: readonly string[], options: RerankOptions = {}): Promise<RerankResult[]> {
    options.signal?.throwIfAborted();
    const passages = options.passages ?? documents.map((text) => ({ text }));
    const lexical = lexicalScores(query, passages, this.weights);
    const scored = lexical.map((score, index) => ({ index, score: score + this.weights.prior / Math.log2(index + 2) }));
    scored.sort((a, b) => b.score - a.score || a.index - b.index);
    return scored.slice(0, options.topN ?? scored.length);
  }
}
