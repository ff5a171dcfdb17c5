import { CallAbortedError, isCancellation } from '@rag/core';
import { contextWords, type ConversationTurn, type QueryCondenser } from '@rag/llm-client';
import { errorMessage, type Logger } from '@rag/observability';

/** What retrieval searches for: the question (or its standalone rewrite), and terms of the conversation that weigh less. */
export interface SearchQuery {
  text: string;
  /** Salient words of the earlier user turns, searched at a lower weight than `text`. */
  context?: string;
}

export interface FollowUpDeps {
  /** An LLM that rewrites a follow-up into a standalone question; without one, the earlier user turns lend their terms. */
  condenser?: QueryCondenser;
  logger?: Logger;
}

/**
 * The retrieval query for `question` asked after `history` (already bounded).
 * With a condenser: its standalone question, or, when that call fails (not
 * cancelled), the heuristic below, logged. Without one: the question plus the
 * salient words of the last user turns, at a lower weight.
 */
export async function followUpQuery(deps: FollowUpDeps, question: string, history: readonly ConversationTurn[], signal?: AbortSignal): Promise<SearchQuery> {
  if (history.length === 0) return { text: question };
  if (deps.condenser) {
    try {
      return { text: await deps.condenser.condense({ question, history, signal }) };
    } catch (error) {
      if (signal?.aborted || isCancellation(error) || error instanceof CallAbortedError) throw error;
      deps.logger?.warn('query condensation failed; retrieving with the earlier user turns instead', {
        error: errorMessage(error),
        code: (error as { code?: unknown }).code,
      });
    }
  }
  const context = contextWords(question, history);
  return context.length > 0 ? { text: question, context: context.join(' ') } : { text: question };
}

/** Weight of the conversation's terms in the query vector, against 1 for the question. */
const CONTEXT_WEIGHT = 0.5;

/** The question's vector plus CONTEXT_WEIGHT times the context's, L2-normalised. */
export function weightedVector(question: number[], context: number[]): number[] {
  const sum = question.map((v, i) => v + CONTEXT_WEIGHT * (context[i] ?? 0));
  const norm = Math.sqrt(sum.reduce((s, v) => s + v * v, 0));
  return norm > 0 ? sum.map((v) => v / norm) : sum;
}
