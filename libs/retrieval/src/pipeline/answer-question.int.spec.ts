import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExtractiveAnswerer, NO_ANSWER_TEXT } from '@rag/llm-client';
import { CollectionNotFoundError } from '../errors';
import { LocalHashEmbedder } from '../embed/local-hash.embedder';
import { LanceDbStore } from '../store/lancedb.store';
import { answerQuestion, type AnswerDeps } from './answer-question';
import { ingestDocuments, type SourceFile } from './ingest-documents';
import { useParsePool } from '../parse/parse-pool.spec-helper';

const DOCS: Record<string, string> = {
  'hr/leave.md': `---
title: Leave Policy
---
# Leave

## Vacation

Employees get 25 vacation days per year. Unused vacation days expire at the end of March.

## Parental leave

Parents get sixteen weeks of paid parental leave.
`,
  'facilities/parking.txt': `Parking is free for staff behind building B.

Visitors park on level 2 of the public garage.`,
  'it/vpn.html': `<html><head><title>Remote access</title></head><body>
<nav>Home | HR | IT</nav>
<h1>VPN</h1><p>The VPN requires two-factor authentication with a hardware key.</p>
<h2>Clients</h2><ul><li>WireGuard is the supported client on laptops.</li></ul>
</body></html>`,
  'finance/expenses.md': `# Expenses

Expense claims are reimbursed at the end of each month. Claims above 500 euros need approval from a director.
`,
};

const asFiles = (docs: Record<string, string>): SourceFile[] => Object.entries(docs).map(([id, text]) => ({ id, read: async () => Buffer.from(text) }));

describe('answerQuestion end to end (real LanceDB, local embedder, extractive answerer)', () => {
  const parser = useParsePool();
  let dir: string;
  let store: LanceDbStore;
  let deps: AnswerDeps;
  const collection = 'handbook';

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rag-answer-int-'));
    store = await LanceDbStore.open(dir);
    const embedder = new LocalHashEmbedder();
    deps = { store, embedder, answerer: new ExtractiveAnswerer() };
    const summary = await ingestDocuments({ store, embedder, parser }, asFiles(DOCS), { tenant: 'default', collection, chunking: { size: 300, overlap: 50 } });
    expect(summary.failed).toEqual([]);
    await store.compact('default', collection);
  });

  afterAll(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['How many vacation days do employees get?', 'hr/leave.md', 'Employees get 25 vacation days per year.'],
    ['How long is parental leave?', 'hr/leave.md', 'Parents get sixteen weeks of paid parental leave.'],
    ['Where do visitors park?', 'facilities/parking.txt', 'Visitors park on level 2 of the public garage.'],
    ['Does the VPN need two-factor authentication?', 'it/vpn.html', 'The VPN requires two-factor authentication with a hardware key.'],
    ['When are expense claims reimbursed?', 'finance/expenses.md', 'Expense claims are reimbursed at the end of each month.'],
  ])('answers %p from %s and cites it', async (query, source, fact) => {
    const result = await answerQuestion(deps, { tenant: 'default', query, collection, topK: 4 });
    expect(result.answer.startsWith(`${fact} [1]`)).toBe(true);
    expect(result.citations[0].source).toBe(source);
    expect(result.citations[0].chunk).toContain(fact);
    // Every marker in the answer points at a citation, numbered from 1 without gaps.
    const markers = [...result.answer.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    expect(new Set(markers)).toEqual(new Set(result.citations.map((_, i) => i + 1)));
    expect(result.backends).toEqual({ vector_store: 'lancedb', embedder: 'local-hash-v4-2048', llm: 'extractive' });
    expect(result.model).toBe('extractive-bm25-v1');
  });

  it('cites every one of top_k 5 passages that answers, the fifth included (one sentence per passage)', async () => {
    const backups: Record<string, string> = {
      'ops/nightly.md': 'Backups are encrypted and backups are verified every night.',
      'ops/retention.md': 'Encrypted backups are kept for thirty days.',
      'ops/restore.md': 'Backups are verified by restoring them.',
      'ops/archive.md': 'Old backups are encrypted too.',
      'ops/offsite.md': 'Verified backups are copied to a second site.',
    };
    const summary = await ingestDocuments({ store, embedder: deps.embedder, parser }, asFiles(backups), {
      tenant: 'default',
      collection: 'backups',
      chunking: { size: 300, overlap: 50 },
    });
    expect(summary.failed).toEqual([]);
    const result = await answerQuestion(deps, { tenant: 'default', query: 'Are the backups encrypted and verified?', collection: 'backups', topK: 5 });
    // Four sentences at most (the former default) left one answering document uncited.
    expect(result.citations.map((c) => c.source).sort()).toEqual(Object.keys(backups).sort());
  });

  it('carries the title and heading path of the cited chunk', async () => {
    const result = await answerQuestion(deps, { tenant: 'default', query: 'Which VPN client is supported on laptops?', collection, topK: 3 });
    expect(result.citations[0]).toMatchObject({
      source: 'it/vpn.html',
      title: 'Remote access',
      heading: 'VPN > Clients',
      id: expect.stringMatching(/^it\/vpn\.html#\d+$/),
    });
    expect(result.answer).toContain('WireGuard');
  });

  it('searches only the documents named in the filter', async () => {
    const result = await answerQuestion(deps, {
      tenant: 'default',
      query: 'How many vacation days do employees get?',
      collection,
      topK: 4,
      filter: { sources: ['facilities/parking.txt', 'finance/expenses.md'] },
    });
    expect(result.answer).not.toContain('vacation');
    for (const c of result.citations) expect(['facilities/parking.txt', 'finance/expenses.md']).toContain(c.source);
  });

  it('says it found nothing, without citations, when no document is about the question', async () => {
    const result = await answerQuestion(deps, { tenant: 'default', query: 'quantum chromodynamics lecture schedule', collection, topK: 4 });
    expect(result.answer).toBe(NO_ANSWER_TEXT);
    expect(result.citations).toEqual([]);
  });

  it.each(['???', 'What is it?'])('says it found nothing for a question without content words: %p', async (query) => {
    const result = await answerQuestion(deps, { tenant: 'default', query, collection, topK: 4 });
    expect(result.answer).toBe(NO_ANSWER_TEXT);
    expect(result.citations).toEqual([]);
  });

  it('copes with query syntax characters in the question', async () => {
    const result = await answerQuestion(deps, { tenant: 'default', query: '"vacation days" OR (parking) AND NOT *', collection, topK: 4 });
    expect(result.citations.length).toBeGreaterThan(0);
  });

  it('rejects a question for a collection that does not exist with CollectionNotFoundError', async () => {
    await expect(answerQuestion(deps, { tenant: 'default', query: 'vacation days', collection: 'no-such-collection', topK: 4 })).rejects.toBeInstanceOf(
      CollectionNotFoundError,
    );
    expect(await store.hasCollection('default', 'no-such-collection')).toBe(false);
  });

  it('answers from the new version after a document changes', async () => {
    const other = 'handbook-v2';
    const embedder = deps.embedder;
    await ingestDocuments({ store, embedder, parser }, asFiles({ 'hr/leave.md': DOCS['hr/leave.md'] }), {
      tenant: 'default',
      collection: other,
      chunking: { size: 300, overlap: 50 },
    });
    const updated = DOCS['hr/leave.md'].replace('25 vacation days', '30 vacation days');
    const summary = await ingestDocuments({ store, embedder, parser }, asFiles({ 'hr/leave.md': updated }), {
      tenant: 'default',
      collection: other,
      chunking: { size: 300, overlap: 50 },
    });
    expect(summary.updated).toBe(1);
    const result = await answerQuestion(deps, { tenant: 'default', query: 'How many vacation days do employees get?', collection: other, topK: 4 });
    expect(result.answer).toContain('Employees get 30 vacation days per year. [1]');
    expect(result.answer).not.toContain('25');
  });
});
