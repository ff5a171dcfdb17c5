/** A rough, provider-neutral ratio; good enough to budget tokens per minute before the provider counts them. */
export const CHARS_PER_TOKEN = 4;

/** Estimated tokens of one text: ceil(chars / 4). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** Estimated tokens of a chat request: its messages plus the most it may generate (providers count `max_tokens` against the limit up front). */
export function estimateChatTokens(messages: readonly { content: string }[], maxTokens: number): number {
  return messages.reduce((sum, m) => sum + estimateTokens(m.content), 0) + Math.max(0, maxTokens);
}

/** Estimated tokens of an embeddings request; at least 1, since even empty input costs a request. */
export function estimateEmbeddingTokens(texts: readonly string[]): number {
  return Math.max(
    1,
    texts.reduce((sum, t) => sum + estimateTokens(t), 0),
  );
}
