import { parseRetryAfter, retryAfterMsOf429 } from './retry-after';

const NOW = Date.parse('2025-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
  it.each([
    ['1', 1000],
    ['0', 0],
    [' 30 ', 30000],
    ['1.5', 1500],
    ['Wed, 01 Jan 2025 00:00:07 GMT', 7000],
    ['Tue, 31 Dec 2024 23:59:00 GMT', 0],
  ])('reads %p as %p ms', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });

  it.each([undefined, null, '', '-1', '1e3', 'soon', 'Mon, 99 Foo 2025'])('gives undefined for %p', (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });
});

describe('retryAfterMsOf429', () => {
  const rateLimited = (headers: unknown) => Object.assign(new Error('429'), { status: 429, headers });

  it('reads the headers the openai client keeps on its error, retry-after-ms first', () => {
    expect(retryAfterMsOf429(rateLimited(new Headers({ 'retry-after': '2' })), NOW)).toBe(2000);
    expect(retryAfterMsOf429(rateLimited(new Headers({ 'retry-after': '2', 'retry-after-ms': '250' })), NOW)).toBe(250);
    expect(retryAfterMsOf429(rateLimited({ 'Retry-After': 'Wed, 01 Jan 2025 00:00:03 GMT' }), NOW)).toBe(3000);
  });

  it('follows the cause chain of a classified error', () => {
    const classified = new Error('chat is rate limiting', { cause: rateLimited(new Headers({ 'retry-after': '1' })) });
    expect(retryAfterMsOf429(classified, NOW)).toBe(1000);
  });

  it('ignores other statuses, missing or unreadable headers', () => {
    expect(retryAfterMsOf429(Object.assign(new Error('503'), { status: 503, headers: new Headers({ 'retry-after': '5' }) }), NOW)).toBeUndefined();
    expect(retryAfterMsOf429(rateLimited(undefined), NOW)).toBeUndefined();
    expect(retryAfterMsOf429(rateLimited(new Headers({ 'retry-after': 'later' })), NOW)).toBeUndefined();
    expect(retryAfterMsOf429('nope', NOW)).toBeUndefined();
  });
});
