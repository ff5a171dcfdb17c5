import { ENGLISH_STOP_WORDS, estimateTokens, words } from '@rag/core';

/** One earlier turn of a conversation: caller content, never instructions. */
export interface ConversationTurn {
  role: 'user' | 'assistant';
  content: string;
}

/**
 * The newest turns whose estimated tokens fit in `maxTokens`, in their
 * order: the oldest are dropped first, and a turn that does not fit ends the
 * history there (nothing older is kept past a gap).
 */
export function boundHistory<T extends ConversationTurn>(history: readonly T[], maxTokens: number): T[] {
  let used = 0;
  let first = history.length;
  for (let i = history.length - 1; i >= 0; i--) {
    used += estimateTokens(history[i].content);
    if (used > maxTokens) break;
    first = i;
  }
  return history.slice(first);
}

/** User turns that lend their terms to a follow-up question, newest first. */
const CONTEXT_TURNS = 2;
/** Words taken from them in all. */
const CONTEXT_WORDS = 12;

/**
 * The salient words of the last user turns that the question does not already
 * use (content words, stop words dropped, newest turn first, each once): what a
 * follow-up such as "and for contractors?" leaves implicit.
 */
export function contextWords(question: string, history: readonly ConversationTurn[]): string[] {
  const seen = new Set(words(question));
  const out: string[] = [];
  const users = history
    .filter((t) => t.role === 'user')
    .slice(-CONTEXT_TURNS)
    .reverse();
  for (const turn of users) {
    for (const word of words(turn.content)) {
      if (out.length >= CONTEXT_WORDS) return out;
      if (ENGLISH_STOP_WORDS.has(word) || seen.has(word) || word.length < 2) continue;
      seen.add(word);
      out.push(word);
    }
  }
  return out;
}
