export * from './answerer';
export { ExtractiveAnswerer, type ExtractiveOptions } from './extractive.answerer';
export { sentences, stem, terms, words } from './text-terms';
export { createAnswerer } from './create-answerer';
