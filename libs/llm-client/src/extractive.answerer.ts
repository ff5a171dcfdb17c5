import { NO_ANSWER_TEXT, type Answer, type AnswerInput, type Answerer } from './answerer';
import { sentences, terms, words } from '@rag/core';
import { contextWords } from './conversation';

export interface ExtractiveOptions {
  /**
   * Most sentences in an answer. Default: 4, or one per passage when more
   * passages are given, so that every passage that answers (above the cutoff)
   * can be cited: with top_k 5, a fifth answering passage is not dropped.
   */
  maxSentences?: number;
  /** Sentences scoring below this share of the best one are left out. */
  relativeCutoff?: number;
}

interface Candidate {
  sentence: string;
  passage: number;
  rank: number;
  position: number;
  score: number;
}

/** Sentences in an answer when fewer passages are given (see ExtractiveOptions.maxSentences). */
const DEFAULT_MAX_SENTENCES = 4;
const K1 = 1.2;
const B = 0.75;
/** A follow-up's context terms (from earlier user turns) count this much of a question term, and only in sentences that match the question. */
const CONTEXT_WEIGHT = 0.5;

/**
 * The offline answerer: no model, no network. It returns the sentences of the
 * retrieved passages that best match the question (BM25 over sentences, with
 * a small bonus for higher-ranked passages and matching headings), each
 * followed by the number of the passage it came from. In a conversation, the
 * salient terms of the previous user turns break ties between sentences that
 * match the question, at a lower weight: "and for contractors?" after a
 * question on vacation days prefers the contractors' sentence about vacation.
 */
export class ExtractiveAnswerer implements Answerer {
  readonly backend = 'extractive';
  readonly model = 'extractive-bm25-v1';
  private readonly maxSentences: number | undefined;
  private readonly relativeCutoff: number;

  constructor(options: ExtractiveOptions = {}) {
    this.maxSentences = options.maxSentences;
    this.relativeCutoff = options.relativeCutoff ?? 0.35;
  }

  async answer(input: AnswerInput): Promise<Answer> {
    input.signal?.throwIfAborted();
    const queryTerms = [...new Set(terms(input.query))];
    const promptTokens = words(input.query).length + input.passages.reduce((n, p) => n + words(p.text).length, 0);
    const context = new Set(terms(contextWords(input.query, input.history ?? []).join(' ')));
    const contextTerms = [...context].filter((t) => !queryTerms.includes(t));
    const chosen = queryTerms.length === 0 ? [] : this.choose(queryTerms, contextTerms, input);
    if (chosen.length === 0) {
      input.onToken?.(NO_ANSWER_TEXT);
      return { text: NO_ANSWER_TEXT, cited: [], model: this.model, usage: { prompt_tokens: promptTokens, completion_tokens: words(NO_ANSWER_TEXT).length } };
    }
    const text = chosen.map((c) => `${c.sentence} [${c.passage}]`).join(' ');
    // Written at once, as one piece: a client following the job's events reads the answer there as it would a model's.
    input.onToken?.(text);
    const cited = [...new Set(chosen.map((c) => c.passage))];
    return { text, cited, model: this.model, usage: { prompt_tokens: promptTokens, completion_tokens: words(text).length } };
  }

  private choose(queryTerms: string[], contextTerms: string[], input: AnswerInput): Candidate[] {
    const candidates: { c: Omit<Candidate, 'score'>; terms: string[]; headingTerms: Set<string> }[] = [];
    input.passages.forEach((p, rank) => {
      const headingTerms = new Set(terms(`${p.title ?? ''} ${p.heading ?? ''}`));
      sentences(p.text).forEach((sentence, position) => {
        const sentenceTerms = terms(sentence);
        if (sentenceTerms.length >= 2) candidates.push({ c: { sentence, passage: p.n, rank, position }, terms: sentenceTerms, headingTerms });
      });
    });
    if (candidates.length === 0) return [];

    const docFreq = new Map<string, number>();
    for (const { terms: ts } of candidates) for (const t of new Set(ts)) docFreq.set(t, (docFreq.get(t) ?? 0) + 1);
    const n = candidates.length;
    const idf = (t: string) => Math.log(1 + (n - (docFreq.get(t) ?? 0) + 0.5) / ((docFreq.get(t) ?? 0) + 0.5));
    const avgLen = candidates.reduce((s, x) => s + x.terms.length, 0) / n;

    const scored: Candidate[] = candidates.map(({ c, terms: ts, headingTerms }) => {
      const tf = new Map<string, number>();
      for (const t of ts) tf.set(t, (tf.get(t) ?? 0) + 1);
      const bm25 = (t: string, f: number) => (idf(t) * f * (K1 + 1)) / (f + K1 * (1 - B + (B * ts.length) / avgLen));
      let score = 0;
      let matched = 0;
      for (const q of queryTerms) {
        const f = tf.get(q) ?? 0;
        if (f > 0) {
          matched++;
          score += bm25(q, f);
        } else if (headingTerms.has(q)) {
          score += 0.3 * idf(q);
        }
      }
      for (const t of contextTerms) {
        const f = tf.get(t) ?? 0;
        if (f > 0) score += CONTEXT_WEIGHT * bm25(t, f);
      }
      // Sentences that cover more of the question, from better-ranked passages, win ties.
      score *= 1 + matched / queryTerms.length;
      score *= 1 + 0.15 / (c.rank + 1);
      return { ...c, score: matched === 0 ? 0 : score };
    });

    const best = Math.max(...scored.map((s) => s.score));
    if (best <= 0) return [];
    const seen = new Set<string>();
    const order = (a: Candidate, b: Candidate) => b.score - a.score || a.rank - b.rank || a.position - b.position;
    const ranked = scored
      // score > 0: a sentence sharing no term with the question never answers it, whatever the cutoff.
      .filter((s) => s.score > 0 && s.score >= best * this.relativeCutoff)
      .sort(order)
      .filter((s) => (seen.has(s.sentence) ? false : (seen.add(s.sentence), true)));
    // Enough sources: the best sentence of each passage comes first, so a passage that
    // answers (above the cutoff) is cited even when another passage has the two best
    // sentences; then the next best sentences fill the answer.
    const most = this.maxSentences ?? Math.max(DEFAULT_MAX_SENTENCES, input.passages.length);
    const cited = new Set<number>();
    const picks = ranked.filter((s) => !cited.has(s.passage) && (cited.add(s.passage), true)).slice(0, most);
    for (const s of ranked) if (picks.length < most && !picks.includes(s)) picks.push(s);
    return picks.sort(order);
  }
}
