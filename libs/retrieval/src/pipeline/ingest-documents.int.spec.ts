import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isPermanent } from '@rag/core';
import { EmbedderMismatchError } from '../errors';
import { LocalHashEmbedder } from '../embed/local-hash.embedder';
import { LanceDbStore } from '../store/lancedb.store';
import type { Embedder } from '../types';
import { ingestDocuments, type IngestProgress, type SourceFile } from './ingest-documents';
import { useParsePool } from '../parse/parse-pool.spec-helper';

/** Delegates to a real embedder and remembers every batch it was asked to embed. */
class CountingEmbedder implements Embedder {
  readonly batches: string[][] = [];
  constructor(private readonly inner: Embedder) {}
  get id() {
    return this.inner.id;
  }
  get dimension() {
    return this.inner.dimension;
  }
  get texts(): string[] {
    return this.batches.flat();
  }
  embed(texts: string[]): Promise<number[][]> {
    this.batches.push([...texts]);
    return this.inner.embed(texts);
  }
}

const LEAVE_MD = `# Leave policy

## Vacation

Employees get 25 vacation days per year. Unused days expire at the end of March.

## Parental leave

Parents get sixteen weeks of paid parental leave.
`;

const PARKING_TXT = `Parking is free for staff behind building B.

Visitors park on level 2 of the public garage.`;

const VPN_HTML = `<html><head><title>Remote access</title></head><body>
<nav>Home | IT | HR</nav>
<h1>VPN</h1><p>The VPN requires two-factor authentication.</p>
<h2>Clients</h2><ul><li>WireGuard on laptops.</li><li>No VPN on phones.</li></ul>
<footer>IT department</footer></body></html>`;

describe('ingestDocuments (real LanceDB)', () => {
  const parser = useParsePool();
  let root: string;
  let docsDir: string;
  let store: LanceDbStore;
  let collectionCounter = 0;
  const fresh = () => `ingest-${++collectionCounter}`;
  const chunking = { size: 400, overlap: 60 };

  const write = (id: string, content: string) => {
    const file = path.join(docsDir, id);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  };
  /** Source files read from disk, as the CLI gives them. */
  const files = (...ids: string[]): SourceFile[] => ids.map((id) => ({ id, read: () => fs.promises.readFile(path.join(docsDir, id)) }));

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'rag-ingest-int-'));
    docsDir = path.join(root, 'docs');
    store = await LanceDbStore.open(path.join(root, 'lancedb'));
  });

  afterAll(async () => {
    await store?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  beforeEach(() => {
    fs.rmSync(docsDir, { recursive: true, force: true });
    write('hr/leave.md', LEAVE_MD);
    write('facilities/parking.txt', PARKING_TXT);
    write('it/vpn.html', VPN_HTML);
  });

  it('adds new documents: embeds each chunk once and stores it under the document id', async () => {
    const collection = fresh();
    const embedder = new CountingEmbedder(new LocalHashEmbedder(64));
    const progress: IngestProgress[] = [];
    const summary = await ingestDocuments({ store, embedder, parser }, files('hr/leave.md', 'facilities/parking.txt', 'it/vpn.html'), {
      tenant: 'default',
      collection,
      chunking,
      onDocument: (p) => progress.push(p),
    });

    const stored = await store.listDocuments('default', collection);
    expect(stored.map((d) => d.docId)).toEqual(['facilities/parking.txt', 'hr/leave.md', 'it/vpn.html']);
    const storedChunks = stored.reduce((n, d) => n + d.chunks, 0);
    expect(summary).toMatchObject({ documents: 3, added: 3, updated: 0, unchanged: 0, failed: [], chunks: storedChunks });
    expect(summary.seconds).toBeGreaterThanOrEqual(0);
    expect(embedder.texts).toHaveLength(storedChunks);

    // Markdown sections stay apart: one chunk per heading path here.
    expect(stored.find((d) => d.docId === 'hr/leave.md')?.chunks).toBe(2);
    expect(progress).toEqual([
      { id: 'hr/leave.md', outcome: 'added', chunks: 2 },
      { id: 'facilities/parking.txt', outcome: 'added', chunks: stored.find((d) => d.docId === 'facilities/parking.txt')?.chunks },
      { id: 'it/vpn.html', outcome: 'added', chunks: stored.find((d) => d.docId === 'it/vpn.html')?.chunks },
    ]);

    // What is embedded is the chunk's place in the document, then its text.
    expect(embedder.texts).toContain('Leave policy\nLeave policy > Vacation\nEmployees get 25 vacation days per year. Unused days expire at the end of March.');
    // Navigation and footer of the HTML page are not ingested.
    expect(embedder.texts.join('\n')).not.toMatch(/IT department|Home \| IT/);

    const hits = await store.searchText('default', collection, 'parental', 5);
    expect(hits[0].chunk).toMatchObject({ docId: 'hr/leave.md', source: 'hr/leave.md', title: 'Leave policy', heading: 'Leave policy > Parental leave' });
  });

  it('embeds nothing when run again on unchanged documents', async () => {
    const collection = fresh();
    const all = files('hr/leave.md', 'facilities/parking.txt', 'it/vpn.html');
    await ingestDocuments({ store, embedder: new LocalHashEmbedder(64), parser }, all, { tenant: 'default', collection, chunking });
    const before = await store.listDocuments('default', collection);

    const embedder = new CountingEmbedder(new LocalHashEmbedder(64));
    const progress: IngestProgress[] = [];
    const summary = await ingestDocuments({ store, embedder, parser }, all, { tenant: 'default', collection, chunking, onDocument: (p) => progress.push(p) });

    expect(embedder.batches).toEqual([]);
    expect(summary).toMatchObject({ documents: 3, added: 0, updated: 0, unchanged: 3, failed: [], chunks: 0 });
    expect(progress.map((p) => p.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(await store.listDocuments('default', collection)).toEqual(before);
  });

  it('re-embeds only a changed document and replaces exactly its chunks', async () => {
    const collection = fresh();
    const all = files('hr/leave.md', 'facilities/parking.txt', 'it/vpn.html');
    await ingestDocuments({ store, embedder: new LocalHashEmbedder(64), parser }, all, { tenant: 'default', collection, chunking });
    const before = await store.listDocuments('default', collection);

    // The leave policy loses its parental-leave section and changes a number.
    write('hr/leave.md', '# Leave policy\n\n## Vacation\n\nEmployees get 30 vacation days per year.\n');
    const embedder = new CountingEmbedder(new LocalHashEmbedder(64));
    const summary = await ingestDocuments({ store, embedder, parser }, all, { tenant: 'default', collection, chunking });

    expect(summary).toMatchObject({ added: 0, updated: 1, unchanged: 2, failed: [], chunks: 1 });
    expect(embedder.texts).toEqual(['Leave policy\nLeave policy > Vacation\nEmployees get 30 vacation days per year.']);

    const after = await store.listDocuments('default', collection);
    const leave = after.find((d) => d.docId === 'hr/leave.md');
    expect(leave?.chunks).toBe(1);
    expect(leave?.contentHash).not.toBe(before.find((d) => d.docId === 'hr/leave.md')?.contentHash);
    expect(after.filter((d) => d.docId !== 'hr/leave.md')).toEqual(before.filter((d) => d.docId !== 'hr/leave.md'));
    expect(await store.searchText('default', collection, 'parental', 5)).toEqual([]);
    const vacation = await store.searchText('default', collection, 'vacation', 5);
    expect(vacation.map((h) => [h.chunk.id, h.chunk.text])).toEqual([['hr/leave.md#0', 'Employees get 30 vacation days per year.']]);
  });

  it('removes every chunk of a document whose new version holds no text', async () => {
    const collection = fresh();
    await ingestDocuments({ store, embedder: new LocalHashEmbedder(64), parser }, files('hr/leave.md', 'facilities/parking.txt'), {
      tenant: 'default',
      collection,
      chunking,
    });
    write('hr/leave.md', '---\ntitle: Retired\n---\n');
    const embedder = new CountingEmbedder(new LocalHashEmbedder(64));
    const summary = await ingestDocuments({ store, embedder, parser }, files('hr/leave.md', 'facilities/parking.txt'), {
      tenant: 'default',
      collection,
      chunking,
    });
    expect(summary).toMatchObject({ updated: 1, unchanged: 1, chunks: 0, failed: [] });
    expect(embedder.texts).toEqual([]);
    expect((await store.listDocuments('default', collection)).map((d) => d.docId)).toEqual(['facilities/parking.txt']);
    expect(await store.searchText('default', collection, 'vacation', 5)).toEqual([]);
  });

  it('reports a broken or unsupported file as failed and goes on with the others', async () => {
    const collection = fresh();
    write('scan.pdf', '%PDF-1.7 binary');
    const missing: SourceFile = { id: 'gone.md', read: () => fs.promises.readFile(path.join(docsDir, 'gone.md')) };
    const progress: IngestProgress[] = [];
    const summary = await ingestDocuments(
      { store, embedder: new LocalHashEmbedder(64), parser },
      [...files('scan.pdf'), missing, ...files('hr/leave.md', 'facilities/parking.txt')],
      { tenant: 'default', collection, chunking, onDocument: (p) => progress.push(p) },
    );

    expect(summary.added).toBe(2);
    expect(summary.documents).toBe(4);
    expect(summary.failed.map((f) => f.id)).toEqual(['scan.pdf', 'gone.md']);
    expect(summary.failed[0].error).toMatch(/not a readable PDF/);
    expect(summary.failed[1].error).toMatch(/ENOENT/);
    expect(progress.map((p) => [p.id, p.outcome])).toEqual([
      ['scan.pdf', 'failed'],
      ['gone.md', 'failed'],
      ['hr/leave.md', 'added'],
      ['facilities/parking.txt', 'added'],
    ]);
    expect(progress[0]).toMatchObject({ chunks: 0, error: summary.failed[0].error });
    expect((await store.listDocuments('default', collection)).map((d) => d.docId)).toEqual(['facilities/parking.txt', 'hr/leave.md']);
  });

  it('refuses a load whose embedder does not fit the collection with a permanent EmbedderMismatchError, before embedding anything, leaving the stored chunks alone', async () => {
    const collection = fresh();
    await ingestDocuments({ store, embedder: new LocalHashEmbedder(64), parser }, files('hr/leave.md'), { tenant: 'default', collection, chunking });
    const before = await store.listDocuments('default', collection);
    write('hr/leave.md', `${LEAVE_MD}\nOne more line.\n`);

    const embedder = new CountingEmbedder(new LocalHashEmbedder(32));
    const error = await ingestDocuments({ store, embedder, parser }, files('hr/leave.md', 'it/vpn.html'), { tenant: 'default', collection, chunking }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(EmbedderMismatchError);
    expect(isPermanent(error)).toBe(true);
    expect((error as Error).message).toMatch(/local-hash-v4-64 \(64 dimensions\).*local-hash-v4-32 \(32 dimensions\)/);
    expect(embedder.texts).toEqual([]);
    expect(await store.listDocuments('default', collection)).toEqual(before);
    expect(before).toEqual([expect.objectContaining({ docId: 'hr/leave.md', chunks: 2 })]);
  });

  it('embeds in batches of embedBatch texts', async () => {
    const collection = fresh();
    const long = Array.from({ length: 5 }, (_, i) => `Paragraph ${i} ${'word '.repeat(30).trim()}.`).join('\n\n');
    write('long.txt', long);
    const embedder = new CountingEmbedder(new LocalHashEmbedder(64));
    const summary = await ingestDocuments({ store, embedder, parser }, files('long.txt'), {
      tenant: 'default',
      collection,
      chunking: { size: 200, overlap: 0 },
      embedBatch: 2,
    });
    expect(summary.chunks).toBe(5);
    expect(embedder.batches.map((b) => b.length)).toEqual([2, 2, 1]);
    expect((await store.listDocuments('default', collection))[0].chunks).toBe(5);
  });
});
