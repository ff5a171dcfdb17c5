import { ChatFiltersDto, ChatRequestDto, Limits } from './index';
import { accepted, issueFields as fields, rejected } from './validation.spec-helper';

const accept = (body: unknown) => accepted(ChatRequestDto, body);
const reject = (body: unknown) => rejected(ChatRequestDto, body);

describe('ChatRequestDto', () => {
  describe('accepts', () => {
    it('a minimal body with only a query, leaving the optional fields unset', () => {
      const value = accept({ query: 'What is our refund policy?' });
      expect(value).toBeInstanceOf(ChatRequestDto);
      expect(value.query).toBe('What is our refund policy?');
      expect(value.collection).toBeUndefined();
      expect(value.top_k).toBeUndefined();
      expect(value.filters).toBeUndefined();
      expect(value.stream).toBeUndefined();
    });

    it('a body with every field set, keeping each value as sent', () => {
      const value = accept({
        query: 'How many days of leave do I get?',
        collection: 'hr-docs_2024',
        top_k: 8,
        filters: { sources: ['handbook/leave.md', 'policies/holidays.md'] },
        stream: true,
      });
      expect(value.collection).toBe('hr-docs_2024');
      expect(value.top_k).toBe(8);
      expect(value.stream).toBe(true);
      expect(value.filters).toBeInstanceOf(ChatFiltersDto);
      expect(value.filters?.sources).toEqual(['handbook/leave.md', 'policies/holidays.md']);
    });

    it('stream: false and an empty filters object', () => {
      const value = accept({ query: 'q', stream: false, filters: {} });
      expect(value.stream).toBe(false);
      expect(value.filters?.sources).toBeUndefined();
    });

    it.each([1, Limits.topKMax])('top_k at the bound %p', (topK) => {
      expect(accept({ query: 'q', top_k: topK }).top_k).toBe(topK);
    });

    it('a query of exactly Limits.queryMaxChars characters, with surrounding spaces', () => {
      const query = ` ${'x'.repeat(Limits.queryMaxChars - 2)} `;
      expect(accept({ query }).query).toBe(query);
    });

    it.each(['a', '0', 'default', 'hr_docs-2', 'a'.repeat(63)])('collection name %p', (collection) => {
      expect(accept({ query: 'q', collection }).collection).toBe(collection);
    });

    it('exactly Limits.filterSourcesMax sources of Limits.sourceMaxChars characters', () => {
      const sources = Array.from({ length: Limits.filterSourcesMax }, (_, i) => `${i}`.padEnd(Limits.sourceMaxChars, 's'));
      expect(accept({ query: 'q', filters: { sources } }).filters?.sources).toHaveLength(Limits.filterSourcesMax);
    });

    it('tabs, line breaks, emoji and other scripts in a query', () => {
      const query = 'Где отчёт?\tWhere is the report? 📄\r\n報告はどこ? 👩‍💻';
      expect(accept({ query }).query).toBe(query);
    });

    it('without mutating the body it was given', () => {
      const body = { query: 'q', filters: { sources: ['a.md'] } };
      const copy = structuredClone(body);
      const value = accept(body);
      expect(body).toEqual(copy);
      expect(value).not.toBe(body);
    });
  });

  describe('rejects', () => {
    it('a body without a query', () => {
      expect(fields(reject({ top_k: 3 }))).toEqual(['query']);
    });

    it('an empty query', () => {
      expect(fields(reject({ query: '' }))).toEqual(['query']);
    });

    it.each([' ', '   ', '\t\n', '\u00a0\u2003'])('a whitespace-only query %j', (query) => {
      expect(fields(reject({ query }))).toEqual(['query']);
    });

    it('a query one character longer than Limits.queryMaxChars', () => {
      const issues = reject({ query: 'x'.repeat(Limits.queryMaxChars + 1) });
      expect(fields(issues)).toEqual(['query']);
      expect(issues[0].problems.join(' ')).toContain(String(Limits.queryMaxChars));
    });

    it.each([42, true, null, ['a question'], { text: 'a question' }])('a query that is not a string: %j', (query) => {
      const issues = reject({ query });
      expect(fields(issues)).toEqual(['query']);
      expect(issues[0].problems.join(' ')).toMatch(/string/);
    });

    it('a numeric string top_k, because nothing is converted implicitly', () => {
      expect(fields(reject({ query: 'q', top_k: '5' }))).toEqual(['top_k']);
    });

    it.each([0, -1, Limits.topKMax + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('top_k %p', (topK) => {
      expect(fields(reject({ query: 'q', top_k: topK }))).toEqual(['top_k']);
    });

    it.each(['yes', 'true', 1, 0])('stream %p, which is not a boolean', (stream) => {
      expect(fields(reject({ query: 'q', stream }))).toEqual(['stream']);
    });

    it('an unknown property, naming it instead of dropping it silently', () => {
      const issues = reject({ query: 'q', temperature: 0.2 });
      expect(fields(issues)).toEqual(['temperature']);
      expect(issues[0].problems.join(' ')).toContain('temperature');
    });

    it('a misspelt optional field, so the typo reaches the caller', () => {
      expect(fields(reject({ query: 'q', topK: 3 }))).toEqual(['topK']);
    });

    it.each([
      ['uppercase', 'Docs'],
      ['leading "-"', '-docs'],
      ['leading "_"', '_docs'],
      ['64 characters', 'a'.repeat(64)],
      ['path traversal', '../x'],
      ['a slash', 'team/docs'],
      ['a dot', 'docs.v2'],
      ['unicode', 'café'],
      ['a space', 'my docs'],
      ['a trailing newline', 'docs\n'],
      ['empty', ''],
    ])('a collection name with %s', (_label, collection) => {
      expect(fields(reject({ query: 'q', collection }))).toEqual(['collection']);
    });

    it('a collection that is not a string', () => {
      expect(fields(reject({ query: 'q', collection: 7 }))).toEqual(['collection']);
    });

    it('filters.sources that is a string rather than an array, with the nested path', () => {
      expect(fields(reject({ query: 'q', filters: { sources: 'handbook.md' } }))).toEqual(['filters.sources']);
    });

    it('filters.sources holding non-strings', () => {
      expect(fields(reject({ query: 'q', filters: { sources: ['a.md', 2] } }))).toEqual(['filters.sources']);
    });

    it('one source more than Limits.filterSourcesMax', () => {
      const sources = Array.from({ length: Limits.filterSourcesMax + 1 }, (_, i) => `doc-${i}.md`);
      expect(fields(reject({ query: 'q', filters: { sources } }))).toEqual(['filters.sources']);
    });

    it('an empty source string', () => {
      expect(fields(reject({ query: 'q', filters: { sources: ['a.md', ''] } }))).toEqual(['filters.sources']);
    });

    it('a source longer than Limits.sourceMaxChars', () => {
      const long = 's'.repeat(Limits.sourceMaxChars + 1);
      expect(fields(reject({ query: 'q', filters: { sources: [long] } }))).toEqual(['filters.sources']);
    });

    it('an unknown property inside filters, with its nested path', () => {
      expect(fields(reject({ query: 'q', filters: { tags: ['x'] } }))).toEqual(['filters.tags']);
    });

    it.each(['handbook.md', 42, true])('filters that is not an object: %j', (filters) => {
      expect(fields(reject({ query: 'q', filters }))).toEqual(['filters']);
    });

    // An array would pass nested validation element by element, and the gateway
    // would then read `filters.sources` as undefined and search every document.
    it.each([[[]], [[{ sources: ['a.md'] }]]])('filters given as an array: %j', (filters) => {
      const issues = reject({ query: 'q', filters });
      expect(issues.map((issue) => issue.field)).toContain('filters');
    });

    it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
      'an unknown property named like an Object member (%s), at the top or inside filters',
      (key) => {
        // JSON.parse makes these own properties; class-validator's whitelist alone lets them through.
        expect(fields(reject(JSON.parse(`{"query":"q","${key}":{"polluted":true}}`)))).toEqual([key]);
        expect(fields(reject(JSON.parse(`{"query":"q","filters":{"${key}":1}}`)))).toEqual([`filters.${key}`]);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      },
    );

    it.each([
      ['a NUL character', 'why\\u0000'],
      ['an escape sequence', '\\u001b[31mred'],
      ['a lone high surrogate', 'broken \\ud800 text'],
      ['a lone low surrogate', '\\udc00'],
    ])('a query holding %s', (_name, escaped) => {
      const issues = reject(JSON.parse(`{"query":"${escaped}"}`));
      expect(issues).toEqual([{ field: 'query', problems: ['query must be well-formed Unicode text without control characters'] }]);
    });

    it('a source holding a control character', () => {
      expect(fields(reject({ query: 'q', filters: { sources: ['ok.md', `bad${String.fromCharCode(7)}.md`] } }))).toEqual(['filters.sources']);
    });

    it('several bad fields at once, naming every one of them', () => {
      const issues = reject({ query: '  ', top_k: 0, stream: 'yes', collection: 'Bad', filters: { sources: [''] }, extra: 1 });
      expect(fields(issues)).toEqual(['collection', 'extra', 'filters.sources', 'query', 'stream', 'top_k']);
      for (const issue of issues) expect(issue.problems.length).toBeGreaterThan(0);
    });
  });
});
