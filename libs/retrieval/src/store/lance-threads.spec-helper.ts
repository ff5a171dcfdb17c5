/**
 * Run as a child process by lancedb-threads.int.spec.ts: imports the store as
 * an app does, uses LanceDB once (which starts its CPU pool), and prints the
 * pool size LanceDB was given.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LanceDbStore } from './lancedb.store';

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rag-lance-threads-'));
  try {
    const store = await LanceDbStore.open(dir);
    await store.ensureCollection('default', 'c', { id: 'probe', dimension: 2 });
    await store.replaceDocument('default', 'c', 'd', [
      { id: 'd#0', docId: 'd', source: 'd', title: 't', heading: '', position: 0, text: 'hello world', contentHash: 'h', vector: [1, 0] },
    ]);
    await store.compact('default', 'c');
    await store.close();
    process.stdout.write(`${JSON.stringify({ threads: process.env.LANCE_CPU_THREADS })}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
