import { signWebhook, verifyWebhookSignature } from './webhook-signature';

describe('webhook signatures', () => {
  const config = { WEBHOOK_SIGNING_SECRET: 's'.repeat(32) };
  const body = '{"job_id":"j1","status":"completed"}';
  const now = Date.now();
  const t = Math.floor(now / 1000);

  it('signs "<t>.<body>" and verifies it', () => {
    const header = signWebhook(config, body, t);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(config.WEBHOOK_SIGNING_SECRET, header, body, 300, now)).toBe(true);
  });

  it('rejects another body, another secret, an old timestamp or a mangled header', () => {
    const header = signWebhook(config, body, t);
    expect(verifyWebhookSignature(config.WEBHOOK_SIGNING_SECRET, header, body.replace('j1', 'j2'), 300, now)).toBe(false);
    expect(verifyWebhookSignature('x'.repeat(32), header, body, 300, now)).toBe(false);
    expect(verifyWebhookSignature(config.WEBHOOK_SIGNING_SECRET, header, body, 300, now + 301_000)).toBe(false);
    expect(verifyWebhookSignature(config.WEBHOOK_SIGNING_SECRET, 'garbage', body, 300, now)).toBe(false);
  });

  it('refuses to sign without a secret', () => {
    expect(() => signWebhook({ WEBHOOK_SIGNING_SECRET: '' }, body, t)).toThrow(/withWebhookSigningSecret/);
  });
});
