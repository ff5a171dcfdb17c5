import { ParsePool } from './parse-pool';

/** A parse pool for the enclosing `describe`, so documents are parsed in threads as in the apps; closed after its tests. */
export function useParsePool(): ParsePool {
  const parser = new ParsePool();
  afterAll(() => parser.close());
  return parser;
}
