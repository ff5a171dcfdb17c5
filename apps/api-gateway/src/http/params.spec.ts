import { HttpError } from './http-error';
import { parseWait } from './params';

describe('parseWait', () => {
  it('defaults to no waiting', () => {
    expect(parseWait(undefined, 30)).toBe(0);
  });

  it.each([
    ['0', 0],
    ['5', 5],
    ['2.5', 2.5],
    ['30', 30],
  ])('accepts %s seconds', (raw, expected) => {
    expect(parseWait(raw, 30)).toBe(expected);
  });

  it.each(['31', '-1', 'abc', '1e2', '', ' 5', '0x10'])('rejects %j with a 400 naming the limit', (raw) => {
    let error: unknown;
    try {
      parseWait(raw, 30);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(400);
    expect((error as HttpError).message).toContain('0 to 30');
  });

  it('rejects repeated parameters (arrays)', () => {
    expect(() => parseWait(['1', '2'], 30)).toThrow(HttpError);
  });
});
