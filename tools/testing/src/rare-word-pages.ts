/**
 * Pages of a manual where most share a question's common words (default
 * value, column, generate) and one holds the word that decides it ("UUID"):
 * a retriever that weighs words by their rarity in the collection ranks that
 * page first; the local embedder's plain vector of the question ranks it
 * sixth. Each page is [title, text].
 */
export const RARE_WORD_PAGES: readonly (readonly [string, string])[] = [
  [
    'Default values',
    'A column can be assigned a default value. When a new row is created and no value is specified for the column, the column is filled with its default value.',
  ],
  [
    'ALTER TABLE',
    'To set a new default value for a column, use ALTER TABLE ... ALTER COLUMN ... SET DEFAULT. The default value of a column applies to rows inserted later.',
  ],
  [
    'CREATE TABLE',
    'The DEFAULT clause assigns a default value to the column whose definition it appears within. The value is any expression; the default value is used when a row is inserted without a value for the column.',
  ],
  [
    'Generated columns',
    'A generated column is a special column that is always computed from other columns. A generated column cannot have a default value, and you cannot write to it.',
  ],
  [
    'Installing extensions',
    'Use CREATE EXTENSION to install an extension into the current database. Installing an extension may create functions, types and operators; you do not need to install an extension that is built in.',
  ],
  [
    'Sequences',
    'The serial types generate a column value from a sequence: the default value of the column is the next value of the sequence, so each new row gets a number.',
  ],
  ['Random numbers', 'random() returns a random value in the range 0 to 1; setseed sets the seed for later random calls in the session.'],
  ['UUID functions', 'gen_random_uuid() returns a version 4 UUID. Use it as the DEFAULT of a uuid key.'],
];

/** The question RARE_WORD_PAGES answer, and the title of the page that answers it. */
export const RARE_WORD_QUESTION = 'How do I generate a random UUID as the default value of a column?';
export const RARE_WORD_ANSWER = 'UUID functions';
