import { RetryableError } from '@rag/core';
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { jitteredDelay } from './backoff';

export interface DocumentLockOptions {
  /** A held lock expires this long after its last renewal (a crashed holder frees it by then). */
  ttlMs?: number;
  /** How long a writer waits for another's lock before giving up with a retryable error. */
  waitMs?: number;
}

/** Another writer held the document's lock for longer than we waited. */
export class DocumentBusyError extends RetryableError {
  override readonly code = 'document_busy';
  constructor(docId: string, waitedMs: number) {
    super(`document ${docId} is being written by another worker or load (waited ${Math.round(waitedMs / 1000)} s); it will be retried`);
    this.name = 'DocumentBusyError';
  }
}

/** The lock expired while its holder stalled; another writer may have it, so this one must not write. */
export class DocumentLockLostError extends RetryableError {
  override readonly code = 'document_busy';
  constructor(docId: string) {
    super(`the write lock of document ${docId} expired before the write; it will be retried`);
    this.name = 'DocumentLockLostError';
  }
}

// Renews or frees the lock only while it still holds our token: never another holder's.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

interface DocumentRef {
  tenant: string;
  collection: string;
  docId: string;
}

/**
 * One writer per (tenant, collection, document) at a time across every
 * process sharing Redis: a key set with NX and a random token, renewed while
 * held, freed only by its holder, and expiring if the holder dies. `fence`
 * renews it and throws if the token is no longer ours, so a writer that
 * stalled past the TTL does not write over the one that took over.
 * (redlock would do the same; its ioredis-5 version has stayed a beta since
 * 2022, and one Redis needs none of its quorum.)
 */
export class DocumentLocks {
  private readonly ttlMs: number;
  private readonly waitMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    options: DocumentLockOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.waitMs = options.waitMs ?? 60_000;
  }

  /** Document ids can be long paths; the key holds their hash. */
  key(doc: DocumentRef): string {
    const hash = createHash('sha256').update(`${doc.tenant}\0${doc.collection}\0${doc.docId}`).digest('hex').slice(0, 32);
    return `${this.prefix}:doc-lock:${hash}`;
  }

  async hold<T>(doc: DocumentRef, write: (fence: () => Promise<void>) => Promise<T>): Promise<T> {
    const key = this.key(doc);
    const token = randomUUID();
    await this.acquire(key, token, doc.docId);
    let lost = false;
    const renew = async () => (await this.redis.eval(RENEW, 1, key, token, String(this.ttlMs))) === 1;
    const timer = setInterval(
      () => {
        renew().then(
          (held) => (lost ||= !held),
          () => undefined,
        );
      },
      Math.max(50, Math.floor(this.ttlMs / 3)),
    );
    timer.unref();
    const fence = async () => {
      if (lost || !(await renew())) {
        lost = true;
        throw new DocumentLockLostError(doc.docId);
      }
    };
    try {
      return await write(fence);
    } finally {
      clearInterval(timer);
      await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    }
  }

  private async acquire(key: string, token: string, docId: string): Promise<void> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      if ((await this.redis.set(key, token, 'PX', this.ttlMs, 'NX')) === 'OK') return;
      const waited = Date.now() - started;
      if (waited >= this.waitMs) throw new DocumentBusyError(docId, waited);
      await new Promise((resolve) => setTimeout(resolve, jitteredDelay(Math.min(attempt, 5), 20)));
    }
  }
}
