import { MAX_DIMENSION } from './options';
import { InvalidRequestError } from './openai-error';

export interface EmbeddingsRequest {
  model: string;
  /** Inputs as texts; token arrays become `t<id>` words so equal arrays still embed equally. */
  texts: string[];
  dimensions?: number;
  encodingFormat: 'float' | 'base64';
}

export function parseEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('The request body must be a JSON object.');
  }
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model === '') throw new InvalidRequestError('you must provide a model parameter', 'model');
  const texts = inputTexts(b.input);
  const d = b.dimensions;
  if (d !== undefined && d !== null && (!Number.isInteger(d) || (d as number) < 1 || (d as number) > MAX_DIMENSION)) {
    throw new InvalidRequestError(`'dimensions' must be an integer from 1 to ${MAX_DIMENSION}.`, 'dimensions');
  }
  const format = b.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') throw new InvalidRequestError("'encoding_format' must be 'float' or 'base64'.", 'encoding_format');
  return { model: b.model, texts, dimensions: (d as number | null | undefined) ?? undefined, encodingFormat: format };
}

function inputTexts(input: unknown): string[] {
  const invalid = () => new InvalidRequestError("'input' must be a non-empty string, array of strings, or array of token arrays.", 'input');
  if (typeof input === 'string') {
    if (input === '') throw invalid();
    return [input];
  }
  if (!Array.isArray(input) || input.length === 0) throw invalid();
  if (input.every(isToken)) return [tokensText(input as number[])];
  return input.map((item: unknown) => {
    if (typeof item === 'string' && item !== '') return item;
    if (Array.isArray(item) && item.length > 0 && item.every(isToken)) return tokensText(item as number[]);
    throw invalid();
  });
}

function isToken(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0;
}

function tokensText(tokens: number[]): string {
  return tokens.map((t) => `t${t}`).join(' ');
}
