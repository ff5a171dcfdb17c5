import { json, startRedis, type PrivateRedis } from '@rag/testing';
import { createHash } from 'node:crypto';
import { startInProcessGateway, type InProcessGateway } from './in-process-gateway.spec-helper';

const ACME = 'acme_upload_key_0123456789abcdef';
const GLOBEX = 'globex_upload_key_0123456789abcdef';
const READER = 'acme_reader_upload_key_0123456789';

// POST /v1/collections/:name/documents against the gateway in-process on a
// private redis-server: what it queues, and everything it refuses before
// queueing anything.
describe('document uploads (real Redis)', () => {
  let redis: PrivateRedis;
  let gateway: InProcessGateway;
  let base: string;

  beforeAll(async () => {
    redis = await startRedis();
    gateway = await startInProcessGateway(redis.url, {
      QUEUE_PREFIX: 'rag-up',
      INGEST_MAX_DOCUMENT_BYTES: '2048',
      API_KEYS: `acme:query+ingest:${ACME},globex:query+ingest:${GLOBEX},acme:query:${READER}`,
    });
    base = gateway.base;
  });

  afterAll(async () => {
    await gateway?.close();
    await redis?.stop();
  });

  const form = (files: Record<string, string | Buffer>) => {
    const body = new FormData();
    for (const [name, content] of Object.entries(files)) body.append('file', new Blob([content]), name);
    return body;
  };
  const upload = (key: string, body: FormData | string, collection = 'handbook', headers: Record<string, string> = {}) =>
    fetch(`${base}/v1/collections/${collection}/documents`, { method: 'POST', headers: { authorization: `Bearer ${key}`, ...headers }, body });
  const jobCount = async () => Object.values(await gateway.ingestQueue.getJobCounts()).reduce((a, b) => a + b, 0);

  it('queues one ingest job per file in the caller\'s tenant, with the bytes kept in Redis by hash', async () => {
    const guide = '# Guide\n\nUploads are loaded by the workers.';
    const res = await upload(ACME, form({ 'guides/setup.md': guide, 'notes.txt': 'Plain notes.' }));
    expect(res.status).toBe(202);
    const body = await json(res);
    expect(body).toMatchObject({ status: 'queued', collection: 'handbook', status_url: `/v1/ingest-runs/${body.run_id}` });
    expect(res.headers.get('location')).toBe(body.status_url);
    const hash = createHash('sha256').update(guide).digest('hex');
    expect(body.documents).toEqual([
      { doc_id: 'guides/setup.md', content_hash: hash, bytes: Buffer.byteLength(guide) },
      { doc_id: 'notes.txt', content_hash: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: 12 },
    ]);
    const jobs = await gateway.ingestQueue.getWaiting();
    expect(jobs.map((j) => j.data)).toEqual(
      expect.arrayContaining([expect.objectContaining({ run_id: body.run_id, tenant: 'acme', collection: 'handbook', doc_id: 'guides/setup.md', content_hash: hash })]),
    );
    expect((await gateway.queue.client.getBuffer(`rag-up:ingest-content:${hash}`))?.toString()).toBe(guide);

    const run = await fetch(`${base}${body.status_url}`, { headers: { authorization: `Bearer ${ACME}` } });
    expect(await json(run)).toMatchObject({ run_id: body.run_id, collection: 'handbook', queued: 2, finished: false, status: 'running' });
    // Another tenant's run is a 404 like an unknown one.
    const foreign = await fetch(`${base}${body.status_url}`, { headers: { authorization: `Bearer ${GLOBEX}` } });
    const unknown = await fetch(`${base}/v1/ingest-runs/00000000-0000-4000-8000-000000000000`, { headers: { authorization: `Bearer ${GLOBEX}` } });
    expect(foreign.status).toBe(404);
    expect(await json(foreign)).toEqual(await json(unknown));
  });

  it('refuses, before queueing anything, what it cannot load', async () => {
    const before = await jobCount();
    const cases: [string, () => Promise<Response>, number, string][] = [
      ['not multipart', () => upload(ACME, JSON.stringify({ file: 'x' }), 'handbook', { 'content-type': 'application/json' }), 415, 'unsupported_media_type'],
      ['no files', () => upload(ACME, new FormData()), 400, 'no_files'],
      ['unsupported type', () => upload(ACME, form({ 'a.md': 'ok', 'tool.exe': 'MZ' })), 400, 'unsupported_file_type'],
      ['too large', () => upload(ACME, form({ 'a.md': 'ok', 'big.md': 'x'.repeat(4096) })), 413, 'document_too_large'],
      ['path traversal', () => upload(ACME, form({ '../etc/passwd.txt': 'x' })), 400, 'invalid_document_id'],
      ['absolute path', () => upload(ACME, form({ '/etc/motd.txt': 'x' })), 400, 'invalid_document_id'],
      ['duplicate', () => upload(ACME, form({ 'a.md': 'one' })).then(() => upload(ACME, dup())), 400, 'duplicate_document'],
      ['bad collection', () => upload(ACME, form({ 'a.md': 'x' }), 'Bad.Name'), 400, 'invalid_collection'],
      ['no ingest scope', () => upload(READER, form({ 'a.md': 'x' })), 403, 'forbidden'],
      ['no boundary', () => upload(ACME, 'garbage', 'handbook', { 'content-type': 'multipart/form-data' }), 400, 'invalid_multipart'],
      // Found by the fuzz test: a body cut off inside a file crashed the gateway (an unhandled stream error).
      [
        'truncated',
        () => upload(ACME, '--b\r\nContent-Disposition: form-data; name="file"; filename="a.md"\r\n\r\npartial', 'handbook', { 'content-type': 'multipart/form-data; boundary=b' }),
        400,
        'invalid_multipart',
      ],
    ];
    function dup() {
      const body = new FormData();
      body.append('file', new Blob(['one']), 'same.md');
      body.append('file', new Blob(['two']), 'same.md');
      return body;
    }
    let accepted = 0;
    for (const [name, send, status, code] of cases) {
      const res = await send();
      const body = await json(res);
      expect([name, res.status, body.error?.code]).toEqual([name, status, code]);
      expect(typeof body.error.message).toBe('string');
      if (name === 'duplicate') accepted++; // its first, valid upload
    }
    expect(await jobCount()).toBe(before + accepted);
  });
});
