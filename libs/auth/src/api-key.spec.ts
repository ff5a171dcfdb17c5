import { basicAuthKey, bearerKey, generateApiKey, hashApiKey, isLoopbackHost, sameHash } from './index';

describe('generateApiKey and sameHash', () => {
  it('makes distinct rag_ keys of 32 random bytes and compares digests', () => {
    const a = generateApiKey();
    expect(a).toMatch(/^rag_[A-Za-z0-9_-]{43}$/);
    expect(generateApiKey()).not.toBe(a);
    expect(sameHash(hashApiKey(a), hashApiKey(a))).toBe(true);
    expect(sameHash(hashApiKey(a), hashApiKey(`${a}x`))).toBe(false);
    expect(sameHash(hashApiKey(a), Buffer.alloc(3))).toBe(false);
  });
});

describe('bearerKey and isLoopbackHost', () => {
  it('reads Bearer tokens only', () => {
    expect(bearerKey('Bearer rag_abc')).toBe('rag_abc');
    expect(bearerKey('bearer  rag_abc')).toBe('rag_abc');
    expect(bearerKey('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerKey('Bearer ')).toBeUndefined();
    expect(bearerKey(undefined)).toBeUndefined();
  });

  it('reads the password of Basic credentials as the key, for the browser dashboard', () => {
    const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;
    expect(basicAuthKey(basic('admin:rag_abc'))).toBe('rag_abc');
    expect(basicAuthKey(basic(':rag_abc'))).toBe('rag_abc');
    expect(basicAuthKey(basic('rag_abc'))).toBeUndefined();
    expect(basicAuthKey(basic('admin:'))).toBeUndefined();
    expect(basicAuthKey(basic('admin:with space'))).toBeUndefined();
    expect(basicAuthKey(basic(`admin:${'k'.repeat(513)}`))).toBeUndefined();
    expect(basicAuthKey('Basic !!notbase64')).toBeUndefined();
    expect(basicAuthKey('Bearer rag_abc')).toBeUndefined();
    expect(basicAuthKey(undefined)).toBeUndefined();
  });

  it.each([
    ['127.0.0.1', true],
    ['localhost', true],
    ['::1', true],
    ['127.0.0.2', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
  ])('%s is loopback: %p', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
