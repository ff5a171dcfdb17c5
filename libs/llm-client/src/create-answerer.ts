import type { Config } from '@rag/config';
import type { Answerer } from './answerer';
import { ExtractiveAnswerer } from './extractive.answerer';

/** The answer backend chosen by LLM. */
export function createAnswerer(config: Config): Answerer {
  switch (config.LLM) {
    case 'extractive':
      return new ExtractiveAnswerer();
    default:
      throw new Error(`LLM=${config.LLM} is not supported; use extractive`);
  }
}
