import { existsSync } from 'node:fs';
import { type Corpus, corpusFolder, datasetFile, globToRegExp, inCorpus, installHint, isDocumentId, listDocumentIds, loadCorpora } from './corpora';
import { parseDataset, readDataset } from './datasets';

const corpora = loadCorpora();

describe('the validator', () => {
  it('accepts a well-formed set', () => {
    const text = ['{"id":"x-001","question":"How?","gold":["a.html"]}', '', '{"id":"x-002","question":"Why?","gold":["b/c.md","a.html"],"note":"n"}'].join(
      '\n',
    );
    expect(parseDataset(text)).toEqual({
      questions: [
        { id: 'x-001', question: 'How?', gold: ['a.html'] },
        { id: 'x-002', question: 'Why?', gold: ['b/c.md', 'a.html'], note: 'n' },
      ],
      errors: [],
    });
  });

  it.each([
    ['a line that is not JSON', '{"id":"x-001",', /line 1: not JSON/],
    ['a duplicate id', '{"id":"x-001","question":"A?","gold":["a.html"]}\n{"id":"x-001","question":"B?","gold":["a.html"]}', /x-001: id used 2 times/],
    [
      'the same question twice',
      '{"id":"x-001","question":"How  do I?","gold":["a.html"]}\n{"id":"x-002","question":"how do i?","gold":["a.html"]}',
      /x-002: same question as x-001/,
    ],
    ['an empty question', '{"id":"x-001","question":"  ","gold":["a.html"]}', /question must be a non-empty string/],
    ['no gold', '{"id":"x-001","question":"A?","gold":[]}', /gold must be a non-empty array/],
    ['an absolute gold path', '{"id":"x-001","question":"A?","gold":["/usr/share/doc/a.html"]}', /not document ids/],
    ['a gold path with ..', '{"id":"x-001","question":"A?","gold":["../a.html"]}', /not document ids/],
    ['a gold file the ingest does not load', '{"id":"x-001","question":"A?","gold":["a.css"]}', /not document ids/],
    ['an unknown field', '{"id":"x-001","question":"A?","gold":["a.html"],"answer":"B"}', /unknown field\(s\) answer/],
    ['a malformed id', '{"id":"1","question":"A?","gold":["a.html"]}', /id must look like/],
    ['mixed prefixes', '{"id":"x-001","question":"A?","gold":["a.html"]}\n{"id":"y-002","question":"B?","gold":["a.html"]}', /mix prefixes/],
  ])('reports %s', (_what, text, message) => {
    expect(parseDataset(text).errors).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });

  it('matches globs the way corpora.json uses them', () => {
    expect(globToRegExp('**/*.html').test('index.html')).toBe(true);
    expect(globToRegExp('**/*.html').test('c3ref/open.html')).toBe(true);
    expect(globToRegExp('*.html').test('c3ref/open.html')).toBe(false);
    expect(globToRegExp('**/*.{md,txt}').test('a/b.txt')).toBe(true);
    expect(globToRegExp('**/*.{md,txt}').test('a/b.html')).toBe(false);
    expect(globToRegExp('release-?.html').test('release-3.html')).toBe(true);
    expect(globToRegExp('sitemap.html').test('xsitemap.html')).toBe(false);
  });

  it('knows the ingest id rule', () => {
    expect(['a.html', 'c3ref/open.html', 'x.md', 'y.txt', 'z.pdf'].every(isDocumentId)).toBe(true);
    expect(['', '/a.html', './a.html', 'a//b.html', 'a\\b.html', '.hidden/a.html', 'a.css'].some(isDocumentId)).toBe(false);
  });
});

describe('corpora.json', () => {
  it('names each corpus once, with a licence, a folder and a dataset file', () => {
    expect(new Set(corpora.map((c) => c.name)).size).toBe(corpora.length);
    for (const c of corpora) {
      expect(c.licence.trim()).not.toBe('');
      expect(['ci', 'benchmark']).toContain(c.role);
      expect(c.include.length).toBeGreaterThan(0);
      expect(existsSync(datasetFile(c))).toBe(true);
    }
  });

  it('has at least two benchmark corpora from Debian packages, and a small one for CI', () => {
    expect(corpora.filter((c) => c.role === 'benchmark' && c.package).length).toBeGreaterThanOrEqual(2);
    expect(corpora.filter((c) => c.role === 'ci' && c.package).length).toBeGreaterThanOrEqual(1);
    expect(corpora.some((c) => c.name === 'sample' && c.folder === 'tools/dev-stack/sample-docs')).toBe(true);
  });
});

describe.each(corpora.map((c) => [c.name, c] as [string, Corpus]))('the %s evaluation set', (_name, corpus) => {
  const { questions, errors } = readDataset(datasetFile(corpus));

  it('parses, with unique ids, distinct non-empty questions and gold ids that follow the id rule', () => {
    expect(errors).toEqual([]);
  });

  it('has enough questions', () => {
    const min = corpus.role === 'benchmark' ? 40 : corpus.package ? 15 : 12;
    expect(questions.length).toBeGreaterThanOrEqual(min);
    if (corpus.role === 'ci' && corpus.package) expect(questions.length).toBeLessThanOrEqual(25);
  });

  it('never names an excluded page as gold', () => {
    const outside = questions.flatMap((q) => q.gold.filter((g) => !inCorpus(corpus, g)).map((g) => `${q.id}: ${g}`));
    expect(outside).toEqual([]);
  });

  it('spreads its questions over the corpus', () => {
    const golds = questions.flatMap((q) => q.gold);
    const counts = new Map<string, number>();
    for (const g of golds) counts.set(g, (counts.get(g) ?? 0) + 1);
    // With only a few documents (the sample) every page is gold often; elsewhere no page may dominate.
    if (corpus.documents >= 20) {
      expect(counts.size).toBeGreaterThanOrEqual(Math.ceil(questions.length * 0.6));
      for (const [id, n] of counts) expect({ id, share: n / questions.length <= 0.25 }).toEqual({ id, share: true });
    } else {
      expect(counts.size).toBe(corpus.documents);
    }
  });

  const folder = corpusFolder(corpus);
  const installed = existsSync(folder);
  // CI installs the packages of the `ci` corpora, so there they must be present; benchmark corpora are optional.
  const mustBeInstalled = corpus.role === 'ci' && process.env.CI === 'true';
  const whenInstalled = installed || mustBeInstalled ? it : it.skip;
  const suffix = installed || mustBeInstalled ? '' : ` — SKIPPED: ${folder} is absent; ${installHint(corpus)}`;

  whenInstalled(`names only documents that exist in ${folder}${suffix}`, () => {
    const ids = new Set(listDocumentIds(corpus));
    const missing = questions.flatMap((q) => q.gold.filter((g) => !ids.has(g)).map((g) => `${q.id}: ${g}`));
    expect(missing).toEqual([]);
  });

  whenInstalled(`has the documented number of documents (${corpus.documents})${suffix}`, () => {
    expect(listDocumentIds(corpus)).toHaveLength(corpus.documents);
  });
});
