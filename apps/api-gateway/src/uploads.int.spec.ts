import { IngestRuns, ingestJobId } from '@rag/jobs';
import { documentBytesKeys, json, keysWithoutExpiry, startRedis, type PrivateRedis } from '@rag/testing';
import { createHash } from 'node:crypto';
import { startInProcessGateway, type InProcessGateway } from './in-process-gateway.spec-helper';

const ACME = 'acme_upload_key_0123456789abcdef';
const GLOBEX = 'globex_upload_key_0123456789abcdef';
const READER = 'acme_reader_upload_key_0123456789';
const INITECH = 'initech_upload_key_0123456789abcde';
const UMBRELLA = 'umbrella_upload_key_0123456789abcd';
const UPLOAD_CAP = 4096;
const PENDING_CAP = 6144;

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
      INGEST_MAX_UPLOAD_BYTES: String(UPLOAD_CAP),
      INGEST_MAX_PENDING_BYTES_PER_TENANT: String(PENDING_CAP),
      API_KEYS: `acme:query+ingest:${ACME},globex:query+ingest:${GLOBEX},acme:query:${READER},initech:ingest:${INITECH},umbrella:ingest:${UMBRELLA}`,
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

  const bytesKeys = async (tenant: string) =>
    (await documentBytesKeys(gateway.queue.client, 'rag-up')).filter((k) => k.startsWith(`rag-up:ingest-content:${tenant}:`));
  const runs = () => new IngestRuns(gateway.queue.client, 'rag-up', 86400);

  it("queues one ingest job per file in the caller's tenant, with the bytes kept in Redis per document", async () => {
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
      expect.arrayContaining([
        expect.objectContaining({ run_id: body.run_id, tenant: 'acme', collection: 'handbook', doc_id: 'guides/setup.md', content_hash: hash }),
      ]),
    );
    expect((await gateway.queue.client.getBuffer(`rag-up:ingest-content:acme:${ingestJobId(body.run_id, 'guides/setup.md')}`))?.toString()).toBe(guide);
    expect(await runs().pendingBytes('acme')).toBe(Buffer.byteLength(guide) + 12);

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
    const bytesBefore = await bytesKeys('acme');
    const pendingBefore = await runs().pendingBytes('acme');
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
        () =>
          upload(ACME, '--b\r\nContent-Disposition: form-data; name="file"; filename="a.md"\r\n\r\npartial', 'handbook', {
            'content-type': 'multipart/form-data; boundary=b',
          }),
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
    // Files stored before a later one was refused (a.md in several cases) are deleted again.
    expect((await bytesKeys('acme')).length).toBe(bytesBefore.length + accepted);
    expect(await runs().pendingBytes('acme')).toBe(pendingBefore + 3); // the accepted "one"
  });

  /** A multipart body sent one file at a time, a pause between them, so each file is stored before the next arrives. */
  const uploadSlowly = (key: string, files: [string, string][]) => {
    const boundary = 'slow-boundary';
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (const [name, content] of files) {
          controller.enqueue(encoder.encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n\r\n${content}\r\n`));
          await new Promise((r) => setTimeout(r, 200));
        }
        controller.enqueue(encoder.encode(`--${boundary}--\r\n`));
        controller.close();
      },
    });
    return fetch(`${base}/v1/collections/handbook/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    } as RequestInit);
  };

  it('deletes the bytes of the files it had stored when a later file refuses the upload', async () => {
    const cases: [[string, string][], number, string][] = [
      [
        [
          ['a.md', 'a'.repeat(1500)],
          ['b.md', 'b'.repeat(1500)],
          ['c.md', 'c'.repeat(1500)],
        ],
        413,
        'upload_too_large',
      ],
      [
        [
          ['a.md', 'first'],
          ['tool.exe', 'MZ'],
        ],
        400,
        'unsupported_file_type',
      ],
      [
        [
          ['a.md', 'first'],
          ['big.md', 'x'.repeat(4000)],
        ],
        413,
        'document_too_large',
      ],
      [
        [
          ['a.md', 'first'],
          ['a.md', 'again'],
        ],
        400,
        'duplicate_document',
      ],
    ];
    for (const [files, status, code] of cases) {
      const res = await uploadSlowly(UMBRELLA, files);
      const body = await json(res);
      expect([code, res.status, body.error.code]).toEqual([code, status, code]);
      expect([code, await bytesKeys('umbrella'), await runs().pendingBytes('umbrella')]).toEqual([code, [], 0]);
    }
    const tooLarge = await upload(UMBRELLA, form({ 'a.md': 'a'.repeat(1500), 'b.md': 'b'.repeat(1500), 'c.md': 'c'.repeat(1500) }));
    expect((await json(tooLarge)).error).toMatchObject({ code: 'upload_too_large', message: expect.stringContaining('send them in several uploads') });
    // A valid upload sent the same way is taken.
    const ok = await uploadSlowly(UMBRELLA, [['a.md', 'first']]);
    expect(ok.status).toBe(202);
    expect((await bytesKeys('umbrella')).length).toBe(1);
  });

  it("refuses with 429 and Retry-After what would take the tenant's pending bytes over INGEST_MAX_PENDING_BYTES_PER_TENANT", async () => {
    const first = await upload(INITECH, form({ 'a.md': 'a'.repeat(2048), 'b.md': 'b'.repeat(2048) }));
    expect([first.status, first.status === 202 ? '' : (await json(first)).error.code]).toEqual([202, '']);
    const jobsBefore = await jobCount();
    // The first file fits (5096), the second does not (7144): refused, and the first deleted again.
    const over = await upload(INITECH, form({ 'c.md': 'c'.repeat(1000), 'd.md': 'd'.repeat(2048) }));
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('30');
    expect((await json(over)).error).toMatchObject({
      code: 'tenant_ingest_backlog',
      message: expect.stringContaining('wait for your runs to finish'),
      details: { pending_bytes: 5096, limit_bytes: PENDING_CAP, retry_after_seconds: 30 },
    });
    expect(await jobCount()).toBe(jobsBefore);
    expect((await bytesKeys('initech')).length).toBe(2);
    expect(await runs().pendingBytes('initech')).toBe(4096);
    // Up to the cap exactly is fine; then the tenant is refused before it sends a byte more.
    expect((await upload(INITECH, form({ 'e.md': 'e'.repeat(2048) }))).status).toBe(202);
    const full = await upload(INITECH, form({ 'f.md': 'f' }));
    expect([full.status, (await json(full)).error.details.pending_bytes]).toEqual([429, PENDING_CAP]);
    // Another tenant is not held back.
    expect((await upload(GLOBEX, form({ 'g.md': 'g'.repeat(2048) }))).status).toBe(202);
    // Bytes a worker loaded leave the count: the tenant may upload again.
    const done = (await gateway.ingestQueue.getWaiting()).filter((j) => j.data.tenant === 'initech');
    await runs().dropContent(done.map((j) => j.data));
    expect(await runs().pendingBytes('initech')).toBe(0);
    expect((await upload(INITECH, form({ 'f.md': 'f' }))).status).toBe(202);
  });

  it("writes no key without an expiry (other than Bull's own and API keys)", async () => {
    expect(await keysWithoutExpiry(gateway.queue.client, 'rag-up')).toEqual([]);
  });
});
