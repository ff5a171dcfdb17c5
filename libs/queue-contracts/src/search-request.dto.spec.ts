import { ChatFiltersDto, Limits, SEARCH_MODES, SearchRequestDto } from './index';
import { accepted, issueFields as fields, rejected } from './validation.spec-helper';

const accept = (body: unknown) => accepted(SearchRequestDto, body);
const reject = (body: unknown) => rejected(SearchRequestDto, body);

describe('SearchRequestDto', () => {
  describe('accepts', () => {
    it('a body with only a query, leaving top_k, filters and mode unset', () => {
      const value = accept({ query: 'vacation days' });
      expect(value).toBeInstanceOf(SearchRequestDto);
      expect(value.query).toBe('vacation days');
      expect(value.top_k).toBeUndefined();
      expect(value.filters).toBeUndefined();
      expect(value.mode).toBeUndefined();
    });

    it('every field set, each value kept as sent', () => {
      const value = accept({ query: 'parental leave', top_k: 7, filters: { sources: ['hr/leave.md', 'faq.txt'] }, mode: 'text' });
      expect(value.top_k).toBe(7);
      expect(value.mode).toBe('text');
      expect(value.filters).toBeInstanceOf(ChatFiltersDto);
      expect(value.filters?.sources).toEqual(['hr/leave.md', 'faq.txt']);
    });

    it.each([...SEARCH_MODES])('mode %p', (mode) => {
      expect(accept({ query: 'q', mode }).mode).toBe(mode);
    });

    it.each([1, Limits.topKMax])('top_k at the bound %p', (topK) => {
      expect(accept({ query: 'q', top_k: topK }).top_k).toBe(topK);
    });

    it('a query of exactly Limits.queryMaxChars characters', () => {
      expect(accept({ query: 'x'.repeat(Limits.queryMaxChars) }).query).toHaveLength(Limits.queryMaxChars);
    });

    it('an empty filters object', () => {
      expect(accept({ query: 'q', filters: {} }).filters?.sources).toBeUndefined();
    });
  });

  describe('rejects', () => {
    it('a body without a query', () => {
      expect(fields(reject({ top_k: 3 }))).toEqual(['query']);
    });

    it.each(['', ' ', '\t\n'])('an empty or blank query %j', (query) => {
      expect(fields(reject({ query }))).toEqual(['query']);
    });

    it('a query one character longer than Limits.queryMaxChars, saying the limit', () => {
      const issues = reject({ query: 'x'.repeat(Limits.queryMaxChars + 1) });
      expect(fields(issues)).toEqual(['query']);
      expect(issues[0].problems.join(' ')).toContain(String(Limits.queryMaxChars));
    });

    it.each([42, null, ['q'], { text: 'q' }])('a query that is not a string: %j', (query) => {
      expect(fields(reject({ query }))).toEqual(['query']);
    });

    it('a query holding a control character', () => {
      expect(reject(JSON.parse('{"query":"why\\u0000"}'))).toEqual([
        { field: 'query', problems: ['query must be well-formed Unicode text without control characters'] },
      ]);
    });

    it.each([0, -1, Limits.topKMax + 1, 2.5, '5'])('top_k %p', (topK) => {
      expect(fields(reject({ query: 'q', top_k: topK }))).toEqual(['top_k']);
    });

    it.each(['semantic', 'HYBRID', '', 1])('mode %p, naming the modes', (mode) => {
      const issues = reject({ query: 'q', mode });
      expect(fields(issues)).toEqual(['mode']);
      expect(issues[0].problems.join(' ')).toContain('hybrid, vector, text');
    });

    it('filters that are not an object, or sources that are not strings', () => {
      expect(fields(reject({ query: 'q', filters: 'a.md' }))).toEqual(['filters']);
      expect(fields(reject({ query: 'q', filters: [{ sources: ['a.md'] }] }))).toContain('filters');
      expect(fields(reject({ query: 'q', filters: { sources: 'a.md' } }))).toEqual(['filters.sources']);
      expect(fields(reject({ query: 'q', filters: { sources: ['a.md', 2] } }))).toEqual(['filters.sources']);
      const tooMany = Array.from({ length: Limits.filterSourcesMax + 1 }, (_, i) => `${i}.md`);
      expect(fields(reject({ query: 'q', filters: { sources: tooMany } }))).toEqual(['filters.sources']);
    });

    it('unknown properties, at the top and inside filters, naming them', () => {
      expect(fields(reject({ query: 'q', collection: 'docs' }))).toEqual(['collection']);
      expect(fields(reject({ query: 'q', topK: 3 }))).toEqual(['topK']);
      expect(fields(reject({ query: 'q', filters: { tags: ['x'] } }))).toEqual(['filters.tags']);
      expect(fields(reject(JSON.parse('{"query":"q","__proto__":{"polluted":true}}')))).toEqual(['__proto__']);
    });

    it('several bad fields at once, naming each', () => {
      expect(fields(reject({ query: '', top_k: 0, mode: 'fuzzy', extra: 1 }))).toEqual(['extra', 'mode', 'query', 'top_k']);
    });

    it.each([null, [], 'query', 3])('a body that is not an object: %j', (body) => {
      expect(reject(body)).toEqual([{ field: '', problems: ['expected a JSON object'] }]);
    });
  });
});
