// wink-porter2-stemmer ships no type declarations; its whole API is this one function.
const stemmer: (word: string) => string = require('wink-porter2-stemmer');

/** The Porter2 (English Snowball) stem of a lower-case word. */
export function porter2(word: string): string {
  return stemmer(word);
}
