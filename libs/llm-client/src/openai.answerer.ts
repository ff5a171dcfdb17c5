import type OpenAI from 'openai';
import { APIUserAbortError } from 'openai';
import { NO_ANSWER_TEXT, type Answer, type AnswerInput, type Answerer } from './answerer';
import { estimateChatTokens } from '@rag/core';
import { classifyOpenAIError } from './errors';
import { buildGroundedPrompt, citedNumbers } from './grounded-prompt';
import type { LlmResilience } from './llm-resilience';

export interface OpenAIAnswererOptions {
  model: string;
  maxTokens: number;
  baseUrl: string;
  /** Breaker, timeout, shared limits and 429 pause; without it each call goes straight to the client. */
  resilience?: LlmResilience;
}

/**
 * Grounded answers from any OpenAI-compatible chat API, streamed: each piece
 * of text goes to `onToken` as it arrives; the result keeps the whole answer,
 * the passage numbers it cites and the token usage.
 */
export class OpenAIAnswerer implements Answerer {
  readonly backend = 'openai';

  constructor(
    private readonly client: OpenAI,
    private readonly options: OpenAIAnswererOptions,
  ) {}

  async answer(input: AnswerInput): Promise<Answer> {
    // Nothing retrieved: say so rather than let the model answer from memory.
    if (input.passages.length === 0) {
      return { text: NO_ANSWER_TEXT, cited: [], model: this.options.model, usage: { prompt_tokens: 0, completion_tokens: 0 } };
    }
    const messages = buildGroundedPrompt(input.query, input.passages, undefined, input.history ?? []);
    // The caller may ask for less than the configured maximum, never more.
    const maxTokens = Math.min(input.maxTokens ?? this.options.maxTokens, this.options.maxTokens);
    const operation = `chat completions (${this.options.model})`;
    const generate = async (signal: AbortSignal | undefined) => {
      let text = '';
      let model = this.options.model;
      let usage = { prompt_tokens: 0, completion_tokens: 0 };
      try {
        const stream = await this.client.chat.completions.create(
          {
            model: this.options.model,
            messages,
            stream: true,
            stream_options: { include_usage: true },
            max_tokens: maxTokens,
            temperature: input.temperature ?? 0,
          },
          { signal },
        );
        for await (const chunk of stream) {
          if (chunk.model) model = chunk.model;
          const delta = chunk.choices[0]?.delta?.content;
          if (delta) {
            text += delta;
            input.onToken?.(delta);
          }
          if (chunk.usage) usage = { prompt_tokens: chunk.usage.prompt_tokens, completion_tokens: chunk.usage.completion_tokens };
        }
        // An aborted stream ends quietly; a cut-short answer must not pass for a whole one.
        if (signal?.aborted) throw new APIUserAbortError();
      } catch (error) {
        throw classifyOpenAIError(operation, this.options.baseUrl, error);
      }
      return { text, model, usage };
    };
    const resilience = this.options.resilience;
    const { text, model, usage } = resilience
      ? await resilience.call('chat', { operation, tokens: estimateChatTokens(messages, maxTokens), signal: input.signal }, generate)
      : await generate(input.signal);
    return { text: text.trim(), cited: citedNumbers(text, input.passages), model, usage };
  }
}
