import { BM25_ENCODER_VERSION, Bm25Encoder, termIndex } from './bm25-encoder';

const encoder = new Bm25Encoder();

/** The document weight of a term seen `tf` times in a document of `len` terms. */
const bm25 = (tf: number, len: number, { k1 = 1.2, b = 0.75, avgLen = 256 } = {}) => (tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * len) / avgLen));

describe('Bm25Encoder.terms', () => {
  it('lower-cases, drops English stop words and reduces inflections to one Porter2 stem', () => {
    expect(encoder.terms('The Employees were reimbursed for their travelling expenses')).toEqual(['employe', 'reimburs', 'travel', 'expens']);
    expect(encoder.terms('policy Policies POLICY')).toEqual(['polici', 'polici', 'polici']);
    expect(encoder.terms('running runs')).toEqual(['run', 'run']);
  });

  it('splits on anything but letters and digits, so query syntax is just text', () => {
    expect(encoder.terms('"C++" OR (rust) AND NOT title:go* [a TO z] {x} ^2 ~ \\ -y +z')).toEqual(['c', 'rust', 'titl', 'go', 'z', 'x', '2', 'y', 'z']);
    expect(encoder.terms('   ')).toEqual([]);
    expect(encoder.terms('*** ((( ")')).toEqual([]);
  });

  it('keeps Unicode words whole and treats typographic apostrophes like straight ones', () => {
    expect(encoder.terms('Größe naïve café Привет 東京')).toEqual(['größe', 'naïv', 'café', 'привет', '東京']);
    expect(encoder.terms('employee’s')).toEqual(encoder.terms("employee's"));
    expect(encoder.terms("employee's")).toEqual(['employe']);
    // NFKC: full-width letters are the plain ones.
    expect(encoder.terms('ＶＰＮ')).toEqual(['vpn']);
  });

  it('keeps words with digits verbatim (the stemmer would garble a 3)', () => {
    expect(encoder.terms('2023 365 v3 B2B')).toEqual(['2023', '365', 'v3', 'b2b']);
  });

  it('returns nothing for text made only of stop words', () => {
    expect(encoder.terms('and or not the of it is')).toEqual([]);
  });
});

describe('termIndex', () => {
  it('is the unsigned 32-bit FNV-1a hash of the UTF-8 bytes', () => {
    expect(termIndex('')).toBe(0x811c9dc5);
    expect(termIndex('a')).toBe(0xe40c292c);
    expect(termIndex('foobar')).toBe(0xbf9cf968);
    // "é" is two UTF-8 bytes, not one UTF-16 code unit.
    expect(termIndex('é')).not.toBe(termIndex('\u00e9'.charCodeAt(0).toString()));
    for (const term of ['größe', '東京', 'zzzzzzzzzzzz', 'vpn']) {
      const index = termIndex(term);
      expect(Number.isInteger(index) && index >= 0 && index <= 0xffffffff).toBe(true);
    }
  });
});

describe('Bm25Encoder.encodeQuery', () => {
  it('gives each distinct term weight 1, indices ascending and unique', () => {
    const q = encoder.encodeQuery('Vacation policy: vacation POLICIES and vacations');
    const stems = ['vacat', 'polici'];
    expect(q.indices).toEqual(stems.map(termIndex).sort((a, b) => a - b));
    expect(q.values).toEqual([1, 1]);
  });

  it('matches the document vector of an inflected form at the same index', () => {
    const doc = encoder.encodeDocument('Employees get twelve vacation days');
    const query = encoder.encodeQuery('employee vacations');
    expect(query.indices.every((i) => doc.indices.includes(i))).toBe(true);
  });

  it('is empty for empty or stop-word-only text', () => {
    expect(encoder.encodeQuery('')).toEqual({ indices: [], values: [] });
    expect(encoder.encodeQuery('what is it')).toEqual({ indices: [], values: [] });
  });
});

describe('Bm25Encoder.encodeDocument', () => {
  it('weighs each term by BM25 term-frequency saturation over the document length', () => {
    const doc = encoder.encodeDocument('Backup backups BACKUP restore');
    // Four terms: "backup" three times, "restor" once.
    const expected = new Map([
      [termIndex('backup'), bm25(3, 4)],
      [termIndex('restor'), bm25(1, 4)],
    ]);
    expect(doc.indices).toEqual([...expected.keys()].sort((a, b) => a - b));
    doc.indices.forEach((index, i) => expect(doc.values[i]).toBeCloseTo(expected.get(index) ?? NaN, 12));
  });

  it('saturates: more occurrences weigh more, but never more than k1 + 1', () => {
    const weightOf = (tf: number) => encoder.encodeDocument(Array(tf).fill('zebra').join(' ')).values[0];
    const weights = [1, 2, 5, 50, 500].map(weightOf);
    for (let i = 1; i < weights.length; i++) expect(weights[i]).toBeGreaterThan(weights[i - 1]);
    expect(weights[4]).toBeLessThan(2.2);
  });

  it('weighs a term less in a longer document, and a term once in a document of average length exactly 1', () => {
    const short = new Bm25Encoder({ avgLen: 4 });
    expect(short.encodeDocument('alpha beta gamma delta').values).toEqual([1, 1, 1, 1].map(() => expect.closeTo(1, 12)));
    const inShort = short.encodeDocument('alpha beta').values[0];
    const inLong = short.encodeDocument('alpha beta gamma delta epsilon zeta eta theta').values[0];
    expect(inShort).toBeGreaterThan(1);
    expect(inLong).toBeLessThan(1);
    // b = 0 switches length normalisation off.
    const flat = new Bm25Encoder({ b: 0 });
    expect(flat.encodeDocument('alpha').values[0]).toBeCloseTo(flat.encodeDocument('alpha beta gamma delta epsilon').values[0], 12);
  });

  it('uses its options in the formula', () => {
    const custom = new Bm25Encoder({ k1: 2, b: 0.5, avgLen: 10 });
    const doc = custom.encodeDocument('apple apple pear');
    const apple = doc.indices.indexOf(termIndex('appl'));
    expect(doc.values[apple]).toBeCloseTo(bm25(2, 3, { k1: 2, b: 0.5, avgLen: 10 }), 12);
    expect(custom).toMatchObject({ k1: 2, b: 0.5, avgLen: 10 });
    expect(encoder).toMatchObject({ k1: 1.2, b: 0.75, avgLen: 256 });
  });

  it('counts terms whose hashes collide as one term, never emitting an index twice', () => {
    // Found by search: two different terms with the same 32-bit FNV-1a hash.
    expect(termIndex('394287010')).toBe(termIndex('677850562'));
    const doc = encoder.encodeDocument('394287010 677850562 zebra');
    expect(doc.indices).toHaveLength(2);
    expect(new Set(doc.indices).size).toBe(2);
    expect(doc.values[doc.indices.indexOf(termIndex('394287010'))]).toBeCloseTo(bm25(2, 3), 12);
    expect(encoder.encodeQuery('394287010 677850562')).toEqual({ indices: [termIndex('394287010')], values: [1] });
  });

  it('returns sorted unique indices for long real text', () => {
    const text = 'Employees get 25 vacation days per year. Unused vacation days expire at the end of March. '.repeat(20);
    const doc = encoder.encodeDocument(text);
    expect(doc.indices).toEqual([...doc.indices].sort((a, b) => a - b));
    expect(new Set(doc.indices).size).toBe(doc.indices.length);
    expect(doc.values).toHaveLength(doc.indices.length);
    expect(doc.values.every((v) => v > 0 && v < 2.2)).toBe(true);
  });

  it('is empty for text without terms', () => {
    expect(encoder.encodeDocument('the and of')).toEqual({ indices: [], values: [] });
  });
});

describe('Bm25Encoder options', () => {
  it.each([[{ k1: 0 }], [{ k1: -1 }], [{ b: 1.5 }], [{ b: -0.1 }], [{ avgLen: 0 }], [{ avgLen: Number.NaN }]])('rejects %p', (options) => {
    expect(() => new Bm25Encoder(options)).toThrow(RangeError);
  });

  it('names its tokenisation and hashing so stored collections can be checked against it', () => {
    expect(BM25_ENCODER_VERSION).toMatch(/^bm25-/);
  });
});
