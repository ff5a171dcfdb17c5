import { sentences, stem, terms, words } from './text-terms';

describe('words', () => {
  it('lower-cases and keeps stop words, in order', () => {
    expect(words('The Quick, brown FOX; jumps over the dog!')).toEqual(['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'the', 'dog']);
  });

  it('keeps contractions whole and drops a possessive s (straight or curly apostrophe)', () => {
    expect(words("Don't touch the company's servers")).toEqual(["don't", 'touch', 'the', 'company', 'servers']);
    expect(words('the team’s goal')).toEqual(['the', 'team', 'goal']);
  });

  it('reads Unicode letters and digits as words', () => {
    expect(words('Café NAÏVE résumé 2024 v2')).toEqual(['café', 'naïve', 'résumé', '2024', 'v2']);
  });

  it('splits on punctuation, symbols and markup', () => {
    expect(words('C++/Java <b>bold</b> e-mail user@example.com')).toEqual(['c', 'java', 'b', 'bold', 'b', 'e', 'mail', 'user', 'example', 'com']);
  });

  it('returns nothing for text without words', () => {
    expect(words('')).toEqual([]);
    expect(words(' ?! -- ... ')).toEqual([]);
  });
});

describe('stem', () => {
  it.each([
    ['policies', 'policy'],
    ['companies', 'company'],
    ['classes', 'class'],
    ['processes', 'process'],
    ['tested', 'test'],
    ['watches', 'watch'],
    ['wishes', 'wish'],
    ['boxes', 'box'],
    ['buzzes', 'buzz'],
    ['runs', 'run'],
    ['documents', 'document'],
    ['indexing', 'index'],
  ])('reduces %s to %s', (word, expected) => {
    expect(stem(word)).toBe(expected);
  });

  it.each(['class', 'status', 'analysis', 'cat', 'bus', 'sing', 'bed'])('leaves %s as it is', (word) => {
    expect(stem(word)).toBe(word);
  });

  it('leaves words of three letters or fewer and numbers alone', () => {
    expect(stem('has')).toBe('has');
    expect(stem('ies')).toBe('ies');
    expect(stem('2024s')).toBe('2024s');
    expect(stem('10ms')).toBe('10ms');
  });

  it('maps singular and plural of a word to one stem', () => {
    for (const [singular, plural] of [
      ['policy', 'policies'],
      ['invoice', 'invoices'],
      ['branch', 'branches'],
      ['address', 'addresses'],
    ]) {
      expect(stem(plural)).toBe(stem(singular));
    }
  });
});

describe('terms', () => {
  it('drops stop words and stems the rest', () => {
    expect(terms('What are the refund policies for the invoices?')).toEqual(['refund', 'policy', 'invoice']);
  });

  it('returns nothing when the text holds only stop words', () => {
    expect(terms('What is it that they would have been doing?')).toEqual([]);
  });

  it('keeps repeated terms (term frequency matters to callers)', () => {
    expect(terms('Backups, backups and more backups')).toEqual(['backup', 'backup', 'backup']);
  });
});

describe('sentences', () => {
  it('splits prose into trimmed sentences', () => {
    expect(sentences('The server restarted.  It came back in 5 seconds! Was data lost? No.')).toEqual([
      'The server restarted.',
      'It came back in 5 seconds!',
      'Was data lost?',
      'No.',
    ]);
  });

  it('ends a sentence at every line break, so list items and table rows stand alone', () => {
    expect(sentences('- first item\n- second item\n\nName | Value\nport | 8080')).toEqual(['- first item', '- second item', 'Name | Value', 'port | 8080']);
  });

  it('drops blank lines and whitespace-only text', () => {
    expect(sentences('\n\n   \n')).toEqual([]);
    expect(sentences('')).toEqual([]);
  });

  it('keeps every word of the input', () => {
    const text = 'Alpha beta. Gamma delta epsilon!\nZeta eta? Theta';
    expect(sentences(text).join(' ').split(/\s+/)).toEqual(text.split(/\s+/));
  });
});
