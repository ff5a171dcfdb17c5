import OpenAI from 'openai';

export interface OpenAIClientOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  maxRetries?: number;
}

/** The official client pointed at any OpenAI-compatible server. */
export function createOpenAIClient(options: OpenAIClientOptions): OpenAI {
  return new OpenAI({
    baseURL: options.baseUrl,
    // Servers such as Ollama or vLLM need no key; the client insists on one.
    apiKey: options.apiKey || 'no-key',
    timeout: options.timeoutMs,
    maxRetries: options.maxRetries ?? 1,
  });
}
