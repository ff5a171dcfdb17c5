/**
 * A writer process for document-lock.int.spec.ts: for each round it meets the
 * other writer at a Redis barrier, then loads that round's document the way
 * a worker's ingest job does (parse, chunk, embed, lock, write).
 * Usage: load-same-document.fixture.ts <data-dir> <redis-url> <rounds> <writers>
 */
import { DocumentLocks } from '@rag/jobs';
import { LanceDbStore, LocalHashEmbedder, ParsePool, replaceDocumentFrom } from '@rag/retrieval';
import Redis from 'ioredis';

export const FIXTURE_COLLECTION = 'race';

export function fixtureDocument(round: number): { docId: string; text: string } {
  const sections = Array.from({ length: 12 }, (_, i) => `## Part ${i}\n\nRound ${round}, part ${i}: the quick brown fox jumps over the lazy dog ${i} times.`);
  return { docId: `round-${round}.md`, text: `# Round ${round}\n\n${sections.join('\n\n')}\n` };
}

export const FIXTURE_CHUNKING = { size: 40, overlap: 0 };

async function main(): Promise<void> {
  const [dir, url, roundsArg, writersArg] = process.argv.slice(2);
  const rounds = Number(roundsArg);
  const writers = Number(writersArg);
  const redis = new Redis(url);
  const store = await LanceDbStore.open(dir);
  const embedder = new LocalHashEmbedder(64);
  const locks = new DocumentLocks(redis, 'race');
  const parser = new ParsePool();
  try {
    await store.ensureCollection('default', FIXTURE_COLLECTION, embedder);
    for (let round = 0; round < rounds; round++) {
      await redis.incr(`race:barrier:${round}`);
      while (Number(await redis.get(`race:barrier:${round}`)) < writers) await new Promise((r) => setTimeout(r, 2));
      const doc = fixtureDocument(round);
      await replaceDocumentFrom(
        { store, embedder, locks, parser },
        { tenant: 'default', collection: FIXTURE_COLLECTION, docId: doc.docId, bytes: Buffer.from(doc.text), chunking: FIXTURE_CHUNKING },
      );
    }
  } finally {
    await parser.close();
    redis.disconnect();
    await store.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
