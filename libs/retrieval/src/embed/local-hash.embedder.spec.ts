import { LOCAL_EMBEDDING_DIM, LocalHashEmbedder } from './local-hash.embedder';

const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
const norm = (a: number[]) => Math.sqrt(dot(a, a));

describe('LocalHashEmbedder', () => {
  const embedder = new LocalHashEmbedder();
  const cosine = (a: string, b: string) => dot(embedder.embedOne(a), embedder.embedOne(b));

  it('defaults to 2048 dimensions and names itself v4 after them', () => {
    expect(LOCAL_EMBEDDING_DIM).toBe(2048);
    expect(embedder.dimension).toBe(2048);
    expect(embedder.id).toBe('local-hash-v4-2048');
    expect(embedder.embedOne('hello world')).toHaveLength(2048);
    const small = new LocalHashEmbedder(64);
    expect(small.id).toBe('local-hash-v4-64');
    expect(small.embedOne('hello world')).toHaveLength(64);
  });

  it('rejects a dimension that is not an integer of at least 8', () => {
    for (const bad of [0, 7, -16, 12.5, Number.NaN]) expect(() => new LocalHashEmbedder(bad)).toThrow(RangeError);
    expect(new LocalHashEmbedder(8).embedOne('ok text')).toHaveLength(8);
  });

  it('embeds a batch in order, one vector of the dimension per text', async () => {
    const texts = ['first text', 'second text', 'third one'];
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(3);
    vectors.forEach((v, i) => {
      expect(v).toHaveLength(LOCAL_EMBEDDING_DIM);
      expect(v).toEqual(embedder.embedOne(texts[i]));
    });
    await expect(embedder.embed([])).resolves.toEqual([]);
  });

  it('is deterministic across calls and instances', () => {
    const text = 'Employees get 25 vacation days per year.';
    expect(new LocalHashEmbedder().embedOne(text)).toEqual(embedder.embedOne(text));
    expect(embedder.embedOne(text)).toEqual(embedder.embedOne(text));
  });

  it('returns unit-length vectors of finite numbers', () => {
    for (const text of ['a', 'Vacation policy', 'A much longer text about the refund policy for annual subscriptions.', 'Ünïcödé 日本語 text']) {
      const v = embedder.embedOne(text);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(norm(v)).toBeCloseTo(1, 10);
    }
  });

  it('returns the zero vector for text without words', () => {
    const v = embedder.embedOne('  ?! ... ');
    expect(v).toHaveLength(LOCAL_EMBEDDING_DIM);
    expect(v.every((x) => x === 0)).toBe(true);
  });

  it('counts a repeated word sublinearly (1 + ln n), not n times', () => {
    // "index" four times and "vacuum" once: with raw counts the repeated word would outweigh the other 4:1.
    const repeated = embedder.embedOne('index index index index vacuum');
    const index = embedder.embedOne('index');
    const vacuum = embedder.embedOne('vacuum');
    const ratio = dot(repeated, index) / dot(repeated, vacuum);
    expect(Math.abs(ratio - (1 + Math.log(4)))).toBeLessThan(0.15);
  });

  it('keeps texts without a common feature close to orthogonal in the default size (few hash collisions)', () => {
    // 20 texts of 40 random 8-letter words: what they share is hash collisions (and a few chance trigrams).
    // 384 buckets gave a mean |cosine| of 0.040 and a largest of 0.16; 2048 gives 0.018 and 0.08.
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const word = () => Array.from({ length: 8 }, () => String.fromCharCode(97 + Math.floor(random() * 26))).join('');
    const vectors = Array.from({ length: 20 }, () => embedder.embedOne(Array.from({ length: 40 }, word).join(' ')));
    const cosines = vectors.flatMap((a, i) => vectors.slice(i + 1).map((b) => Math.abs(dot(a, b))));
    expect(cosines.reduce((s, c) => s + c, 0) / cosines.length).toBeLessThan(0.03);
    expect(Math.max(...cosines)).toBeLessThan(0.12);
  });

  it('gives different texts different vectors', () => {
    expect(embedder.embedOne('refund policy')).not.toEqual(embedder.embedOne('vacation policy'));
  });

  it('places texts sharing vocabulary closer together than unrelated texts', () => {
    const query = 'How many vacation days do employees get?';
    const related = 'Employees get 25 vacation days per year.';
    const unrelated = 'The database backup runs nightly at 2am.';
    expect(cosine(query, related)).toBeGreaterThan(cosine(query, unrelated) + 0.2);
    expect(cosine(query, related)).toBeGreaterThan(0.4);
    expect(Math.abs(cosine(query, unrelated))).toBeLessThan(0.25);
  });

  it('places inflected forms near each other', () => {
    expect(cosine('refund policies', 'refund policy')).toBeGreaterThan(0.8);
    expect(cosine('deploying the servers', 'deploy a server')).toBeGreaterThan(cosine('deploying the servers', 'lunch menu today'));
    expect(cosine('policies', 'policy')).toBeGreaterThan(cosine('policies', 'banana'));
  });

  it('ignores case and stop words for the word features', () => {
    expect(cosine('The Refund Policy', 'refund policy')).toBeGreaterThan(0.85);
  });

  it('tolerates a typo through character trigrams', () => {
    expect(cosine('authentication token', 'authentcation token')).toBeGreaterThan(cosine('authentication token', 'vacation token'));
  });

  it('places an inflection or a typo the stemmer misses closer than unrelated text', () => {
    // Porter2 leaves these pairs with different stems: only the trigrams link them.
    expect(cosine('replication slot', 'replicating slots')).toBeGreaterThan(cosine('replication slot', 'checkpoint interval') + 0.2);
    expect(cosine('vacuum freezing', 'vaccuum freeze')).toBeGreaterThan(cosine('vacuum freezing', 'trigger function') + 0.2);
  });

  it("lists a text's distinct features: stemmed words without stop words, word pairs, trigrams of every word", () => {
    const features = embedder.features('The policies, the policy');
    expect([...features].filter((f) => f.startsWith('w:'))).toEqual(['w:polici']);
    expect([...features].filter((f) => f.startsWith('b:'))).toEqual(['b:polici polici']);
    expect(features.has('c: th')).toBe(true);
    expect(features.has('c:ies')).toBe(true);
    expect(features.has('c:icy')).toBe(true);
  });

  it('embeds a query with each feature weighted: weight 1 gives the plain vector, a heavier word pulls it closer', () => {
    const query = 'uuid column default';
    const plain = embedder.embedOne(query);
    embedder.embedQuery(query, () => 1).forEach((v, i) => expect(v).toBeCloseTo(plain[i], 12));
    const rareUuid = (feature: string) => (feature.includes('uuid') ? 3 : 1);
    const weighted = embedder.embedQuery(query, rareUuid);
    expect(norm(weighted)).toBeCloseTo(1, 10);
    const uuid = embedder.embedOne('uuid');
    const columnDefault = embedder.embedOne('column default');
    expect(dot(weighted, uuid)).toBeGreaterThan(dot(plain, uuid) + 0.15);
    expect(dot(weighted, columnDefault)).toBeLessThan(dot(plain, columnDefault));
  });

  it('asks the weight of exactly the features it lists', () => {
    const text = 'Replicating servers, quickly';
    const asked = new Set<string>();
    embedder.embedQuery(text, (feature) => {
      asked.add(feature);
      return 1;
    });
    expect(asked).toEqual(embedder.features(text));
  });

  it('ranks the right document first for a question among several', () => {
    const docs = [
      'Parking is free for staff behind building B.',
      'Expense claims are reimbursed at the end of each month.',
      'The VPN requires two-factor authentication for remote access.',
    ];
    const best = (q: string) => {
      const scores = docs.map((d) => cosine(q, d));
      return scores.indexOf(Math.max(...scores));
    };
    expect(best('when are expenses reimbursed?')).toBe(1);
    expect(best('where can I park?')).toBe(0);
    expect(best('remote VPN access')).toBe(2);
  });
});
