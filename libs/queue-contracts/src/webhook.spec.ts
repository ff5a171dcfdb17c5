import { ChatRequestDto, QueryJobPayload, WebhookJobPayload, callbackUrlProblem, validatePlain } from './index';

describe('callback_url', () => {
  it.each(['https://hooks.example.com/rag', 'http://127.0.0.1:8080/x?y=1', 'https://[2606:4700::1]/x'])('accepts %s', (url) => {
    expect(callbackUrlProblem(url)).toBeUndefined();
  });

  it.each([
    ['ftp://example.com/x', /http:\/\/ or https:\/\//],
    ['javascript:alert(1)', /http:\/\/ or https:\/\//],
    ['example.com/x', /absolute/],
    ['https://u:p@example.com/', /user name or password/],
    ['https://u@example.com/', /user name or password/],
    [`https://example.com/${'x'.repeat(2048)}`, /at most 2048/],
    [7, /string/],
  ])('refuses %p', (url, why) => {
    expect(callbackUrlProblem(url)).toMatch(why);
  });

  it('is optional on a chat request and a question payload, and validated when given', () => {
    expect(validatePlain(ChatRequestDto, { query: 'q' }).ok).toBe(true);
    const bad = validatePlain(ChatRequestDto, { query: 'q', callback_url: 'ftp://x/' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issues[0].field).toBe('callback_url');
    const payload = { query: 'q', collection: 'docs', top_k: 3, stream: false, request_id: 'r1', tenant: 'acme' };
    expect(validatePlain(QueryJobPayload, { ...payload, callback_url: 'https://example.com/h' }).ok).toBe(true);
    expect(validatePlain(QueryJobPayload, { ...payload, callback_url: 'https://a:b@example.com/h' }).ok).toBe(false);
  });

  it('is required on a webhook job', () => {
    expect(validatePlain(WebhookJobPayload, { job_id: 'j1', tenant: 'acme', callback_url: 'https://example.com/h' }).ok).toBe(true);
    expect(validatePlain(WebhookJobPayload, { job_id: 'j1', tenant: 'acme' }).ok).toBe(false);
  });
});
