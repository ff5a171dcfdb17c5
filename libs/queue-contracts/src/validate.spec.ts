import { ChatRequestDto, QueryJobPayload, describeIssues, validatePlain, type ValidationIssue } from './index';
import { rejected as reject } from './validation.spec-helper';

describe('validatePlain', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an array', []],
    ['an array holding a valid body', [{ query: 'q' }]],
    ['a string', '{"query":"q"}'],
    ['a number', 42],
    ['a boolean', true],
  ])('rejects %s as a body with one issue on the body itself', (_label, body) => {
    for (const cls of [ChatRequestDto, QueryJobPayload]) {
      const issues = reject(cls, body);
      expect(issues).toHaveLength(1);
      expect(issues[0].field).toBe('');
      expect(issues[0].problems.join(' ')).toMatch(/object/i);
    }
  });

  it('reports one issue per field, with every problem of that field', () => {
    const issues = reject(ChatRequestDto, { query: 7, top_k: 'many' });
    expect(issues.map((issue) => issue.field).sort()).toEqual(['query', 'top_k']);
    const topK = issues.find((issue) => issue.field === 'top_k');
    // 'many' is not an integer and, not being a number, not within bounds either.
    expect(topK?.problems.length).toBeGreaterThan(1);
    expect(new Set(topK?.problems).size).toBe(topK?.problems.length);
  });

  it('gives nested issues a dotted path', () => {
    const issues = reject(ChatRequestDto, { query: 'q', filters: { sources: 'a.md', extra: true } });
    expect(issues.map((issue) => issue.field).sort()).toEqual(['filters.extra', 'filters.sources']);
  });

  it('does not let a "__proto__" key in JSON pollute prototypes', () => {
    const body = JSON.parse('{"query":"q","__proto__":{"polluted":"yes"}}') as unknown;
    const result = validatePlain(ChatRequestDto, body);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    if (result.ok) expect((result.value as unknown as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('does not let a "constructor.prototype" key in JSON pollute prototypes', () => {
    const body = JSON.parse('{"query":"q","constructor":{"prototype":{"polluted":"yes"}}}') as unknown;
    validatePlain(ChatRequestDto, body);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((new ChatRequestDto() as unknown as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('describeIssues', () => {
  it('names every field with its problems', () => {
    const text = describeIssues(reject(ChatRequestDto, { query: 1, filters: { sources: 'x' }, colour: 'red' }));
    for (const field of ['query', 'filters.sources', 'colour']) expect(text).toContain(`${field}:`);
  });

  it('calls the whole body "body" when the issue is not about one field', () => {
    expect(describeIssues(reject(ChatRequestDto, null))).toMatch(/^body: .*object/i);
  });

  it('keeps each problem of a field, in order', () => {
    const issues: ValidationIssue[] = [
      { field: 'top_k', problems: ['too small', 'not an integer'] },
      { field: 'stream', problems: ['not a boolean'] },
    ];
    const text = describeIssues(issues);
    expect(text.indexOf('too small')).toBeLessThan(text.indexOf('not an integer'));
    expect(text.indexOf('top_k')).toBeLessThan(text.indexOf('stream'));
    expect(text).toContain('not a boolean');
  });

  it('is empty for no issues', () => {
    expect(describeIssues([])).toBe('');
  });
});

describe('validatePlain nesting limit', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 'x';
    for (let d = 0; d < depth; d++) value = d % 2 ? [value] : { a: value };
    return value;
  };

  it('refuses bodies nested deeper than the limit before transforming them, without throwing', () => {
    const result = validatePlain(ChatRequestDto, { query: 'q', filters: nested(5000) });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0].problems[0]).toContain('nested deeper than');
  });

  it('still validates ordinary nesting field by field', () => {
    const result = validatePlain(ChatRequestDto, { query: 'q', filters: { sources: [['x']] } });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.some((i) => i.field.startsWith('filters'))).toBe(true);
  });
});
