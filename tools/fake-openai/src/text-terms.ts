// Word handling shared by the fake embedder, the default reply and token counts.

const STOP_WORDS = new Set(
  (
    'a an and are as at be but by can do does for from has have how i if in is it its me my no not of on or our so ' +
    'than that the their them then there these they this to was we were what when where which who why will with you your'
  ).split(' '),
);

const WORD = /[\p{L}\p{N}]+/gu;

/** Lower-cased words in order. */
export function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** Words that carry meaning: stop words dropped. */
export function contentWords(text: string): string[] {
  return words(text).filter((w) => !STOP_WORDS.has(w));
}

/**
 * Token-like pieces: each word with the whitespace after it (leading
 * whitespace stays with the first one), so `pieces.join('') === text`.
 */
export function splitPieces(text: string): string[] {
  if (text === '') return [];
  return text.match(/\s*\S+\s*/g) ?? [text];
}

/** A stand-in for a tokenizer: one token per piece. */
export function countTokens(text: string): number {
  return splitPieces(text).length;
}

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

export function firstSentence(text: string): string {
  for (const { segment } of sentenceSegmenter.segment(text)) {
    const trimmed = segment.trim();
    if (trimmed) return trimmed;
  }
  return text.trim();
}
