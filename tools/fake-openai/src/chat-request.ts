import { InvalidRequestError } from './openai-error';

export interface ChatContentPart {
  type: string;
  text?: string;
  [key: string]: unknown;
}

export interface ChatMessage {
  role: string;
  content?: string | ChatContentPart[] | null;
  [key: string]: unknown;
}

/** The fields of POST /v1/chat/completions the fake reads; the rest pass through untouched. */
export interface ChatRequestBody {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  [key: string]: unknown;
}

/** Checks the parts of a chat request the real API would reject. */
export function parseChatRequest(body: unknown): ChatRequestBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('The request body must be a JSON object.');
  }
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model === '') throw new InvalidRequestError('you must provide a model parameter', 'model');
  if (!Array.isArray(b.messages) || b.messages.length === 0) {
    throw new InvalidRequestError("'messages' must be a non-empty array.", 'messages');
  }
  b.messages.forEach((m: unknown, i) => {
    const message = m as Record<string, unknown> | null;
    if (typeof message !== 'object' || message === null || typeof message.role !== 'string') {
      throw new InvalidRequestError(`'messages.${i}' must be an object with a role.`, `messages.${i}`);
    }
    const c = message.content;
    if (c !== undefined && c !== null && typeof c !== 'string' && !Array.isArray(c)) {
      throw new InvalidRequestError(`'messages.${i}.content' must be a string or an array of content parts.`, `messages.${i}.content`);
    }
  });
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') throw new InvalidRequestError("'stream' must be a boolean.", 'stream');
  for (const key of ['max_tokens', 'max_completion_tokens']) {
    const v = b[key];
    if (v !== undefined && v !== null && (!Number.isInteger(v) || (v as number) < 1))
      throw new InvalidRequestError(`'${key}' must be a positive integer.`, key);
  }
  const t = b.temperature;
  if (t !== undefined && t !== null && (typeof t !== 'number' || t < 0 || t > 2)) {
    throw new InvalidRequestError("'temperature' must be a number from 0 to 2.", 'temperature');
  }
  return b as ChatRequestBody;
}

/** The text of a message: its string content, or its text parts joined. */
export function messageText(message: ChatMessage): string {
  const c = message.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('\n');
  return '';
}

export function lastUserText(body: ChatRequestBody): string {
  const last = [...body.messages].reverse().find((m) => m.role === 'user');
  return last ? messageText(last) : '';
}

export function promptTokens(body: ChatRequestBody, count: (text: string) => number): number {
  return body.messages.reduce((sum, m) => sum + count(messageText(m)), 0);
}
