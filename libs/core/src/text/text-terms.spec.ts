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
  it('maps the inflections of a word to one Porter2 stem', () => {
    for (const forms of [
      ['policy', 'policies'],
      ['company', 'companies'],
      ['class', 'classes'],
      ['process', 'processes', 'processing', 'processed'],
      ['test', 'tested', 'testing', 'tests'],
      ['watch', 'watches'],
      ['box', 'boxes'],
      ['run', 'runs', 'running'],
      ['document', 'documents'],
      ['index', 'indexing', 'indexes'],
      ['invoice', 'invoices'],
      ['address', 'addresses'],
    ]) {
      expect(new Set(forms.map(stem))).toEqual(new Set([stem(forms[0])]));
    }
  });

  it('is the Porter2 stem', () => {
    expect(['policies', 'running', 'deployed', 'generously'].map(stem)).toEqual(['polici', 'run', 'deploy', 'generous']);
  });

  it('keeps words holding a digit as they are (the stemmer would garble a 3)', () => {
    expect(['2023', '2024s', '10ms', 'v3'].map(stem)).toEqual(['2023', '2024s', '10ms', 'v3']);
  });
});

describe('terms', () => {
  it('drops stop words and stems the rest', () => {
    expect(terms('What are the refund policies for the invoices?')).toEqual(['refund', 'polici', 'invoic']);
  });

  it('returns nothing when the text holds only stop words', () => {
    expect(terms('What is it that they would have been doing?')).toEqual([]);
  });

  it('keeps repeated terms (term frequency matters to callers)', () => {
    expect(terms('Backups, backups and more backups')).toEqual(['backup', 'backup', 'backup']);
  });

  it('drops the stop words the BM25 encoder drops', () => {
    expect(terms('You ought to have said so')).toEqual(['said']);
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
