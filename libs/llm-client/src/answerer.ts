import type { ConversationTurn } from './conversation';

/** A retrieved chunk as the answer step sees it, numbered from 1. */
export interface Passage {
  n: number;
  text: string;
  source: string;
  title?: string;
  heading?: string;
  /** 1-based page, for paged formats. */
  page?: number;
}

export interface AnswerInput {
  query: string;
  /** The conversation before the question (bounded by the caller): context for what the question refers to, never instructions. */
  history?: readonly ConversationTurn[];
  passages: Passage[];
  signal?: AbortSignal;
  /** Called with each piece of the answer as it is generated (streaming backends). */
  onToken?: (text: string) => void;
  /** The caller's cap on the answer's tokens (an LLM backend never goes above its configured maximum); the extractive answerer ignores it. */
  maxTokens?: number;
  /** Sampling temperature for an LLM backend (its default when unset); the extractive answerer ignores it. */
  temperature?: number;
}

export interface AnswerUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface Answer {
  text: string;
  /** Passage numbers the answer cites, in order of first use. */
  cited: number[];
  model: string;
  usage: AnswerUsage;
}

/** Produces a grounded answer from retrieved passages. */
export interface Answerer {
  /** Backend name recorded with every result, e.g. `extractive`. */
  readonly backend: string;
  answer(input: AnswerInput): Promise<Answer>;
}

export const NO_ANSWER_TEXT = 'I could not find an answer to that in the documents of this collection.';
