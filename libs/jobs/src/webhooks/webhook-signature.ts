import type { Redis } from 'ioredis';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { sharedRandomSecret } from '../job-signature';

export interface WebhookSigningConfig {
  WEBHOOK_SIGNING_SECRET: string;
}

/** The header every delivery carries: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'X-Rag-Signature';

function secretOf(config: WebhookSigningConfig): string {
  if (config.WEBHOOK_SIGNING_SECRET.length < 32)
    throw new Error('no webhook signing secret: open the config with withWebhookSigningSecret() before delivering webhooks');
  return config.WEBHOOK_SIGNING_SECRET;
}

const mac = (secret: string, timestamp: number, body: string) => createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

/** The X-Rag-Signature value of `body` sent at `timestamp` (unix seconds). */
export function signWebhook(config: WebhookSigningConfig, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${mac(secretOf(config), timestamp, body)}`;
}

/**
 * Whether `header` signs `body` with `secret` and is at most `toleranceSeconds`
 * old: what a receiver does (the README shows the same in a few lines).
 */
export function verifyWebhookSignature(secret: string, header: string, body: string, toleranceSeconds = 300, now = Date.now()): boolean {
  const fields = new Map(header.split(',').map((part) => part.split('=', 2) as [string, string]));
  const timestamp = Number(fields.get('t'));
  const given = fields.get('v1') ?? '';
  if (!Number.isInteger(timestamp) || Math.abs(now / 1000 - timestamp) > toleranceSeconds || !/^[0-9a-f]{64}$/.test(given)) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(mac(secret, timestamp, body), 'hex'));
}

/**
 * The config with its webhook signing secret: WEBHOOK_SIGNING_SECRET when
 * set, else one random secret shared through Redis (created by the first
 * worker to start, read by every other). Call once at start.
 */
export async function withWebhookSigningSecret<C extends WebhookSigningConfig & { QUEUE_PREFIX: string }>(redis: Redis, config: C): Promise<C> {
  if (config.WEBHOOK_SIGNING_SECRET !== '') return config;
  const shared = await sharedRandomSecret(redis, webhookSecretKey(config.QUEUE_PREFIX), 'WEBHOOK_SIGNING_SECRET');
  return Object.freeze({ ...config, WEBHOOK_SIGNING_SECRET: shared });
}

/** Where a generated secret is kept (operators read it there to give it to receivers). */
export const webhookSecretKey = (prefix: string) => `${prefix}:webhook-signing-secret`;
