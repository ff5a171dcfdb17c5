import { estimateChatTokens, estimateEmbeddingTokens, estimateTokens } from './token-estimate';

describe('token estimates', () => {
  it.each([
    ['', 0],
    ['abcd', 1],
    ['abcde', 2],
  ])('counts ceil(chars / 4) per text: %p is %i', (text, tokens) => {
    expect(estimateTokens(text)).toBe(tokens);
  });

  it('adds max_tokens to a chat request, since providers count it up front', () => {
    const messages = [
      { role: 'system', content: 'x'.repeat(40) },
      { role: 'user', content: 'y'.repeat(9) },
    ];
    expect(estimateChatTokens(messages, 800)).toBe(10 + 3 + 800);
  });

  it('sums the texts of an embeddings request, at least 1', () => {
    expect(estimateEmbeddingTokens(['a'.repeat(8), 'b'.repeat(5)])).toBe(2 + 2);
    expect(estimateEmbeddingTokens([''])).toBe(1);
  });
});
