// Term extraction shared by the offline parts (local embedder, extractive
// answerer): Unicode words, lower-cased, stop words dropped, Porter2 stems.
// The BM25 encoder uses the same stemmer and stop words with its own words.
import { ENGLISH_STOP_WORDS } from './stop-words';

// wink-porter2-stemmer ships no type declarations; its whole API is this one function.
const porter2: (word: string) => string = require('wink-porter2-stemmer');

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;

/** Lower-cased words in order, stop words included. */
export function words(text: string): string[] {
  return (text.toLowerCase().match(WORD) ?? []).map((w) => w.replace(/['’]s$/, ''));
}

/**
 * The Porter2 (English Snowball) stem of a lower-case word, so "policies"
 * meets "policy". Words with a digit stay as they are: they have no
 * inflections, and the stemmer uses the digit 3 internally ("2023" would come
 * out as "202i").
 */
export function stem(word: string): string {
  return /\p{N}/u.test(word) ? word : porter2(word);
}

/** Content terms: stemmed words without stop words. */
export function terms(text: string): string[] {
  return words(text)
    .filter((w) => !ENGLISH_STOP_WORDS.has(w))
    .map(stem);
}

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/** Sentences of a text; line breaks (list items, table rows) also end one. */
export function sentences(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\n+/)) {
    for (const { segment } of sentenceSegmenter.segment(line)) {
      const trimmed = segment.trim();
      if (trimmed) out.push(trimmed);
    }
  }
  return out;
}
