import type OpenAI from 'openai';
import { NO_ANSWER_TEXT, type Answer, type AnswerInput, type Answerer } from './answerer';
import { classifyOpenAIError } from './errors';
import { buildGroundedPrompt, citedNumbers } from './grounded-prompt';

export interface OpenAIAnswererOptions {
  model: string;
  maxTokens: number;
  baseUrl: string;
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
    const messages = buildGroundedPrompt(input.query, input.passages);
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
          max_tokens: this.options.maxTokens,
          temperature: 0,
        },
        { signal: input.signal },
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
    } catch (error) {
      throw classifyOpenAIError(`chat completions (${this.options.model})`, this.options.baseUrl, error);
    }
    return { text: text.trim(), cited: citedNumbers(text, input.passages), model, usage };
  }
}
