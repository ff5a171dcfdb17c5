import type { Config } from '@rag/config';
import { openVectorStore } from '@rag/retrieval';
import type { Output } from './ingest.command';

/** Lists collections, or the documents of one collection. */
export async function listCommand(config: Config, collection: string | undefined, json: boolean, io: Output): Promise<number> {
  const store = await openVectorStore(config);
  try {
    if (!collection) {
      const names = await store.listCollections();
      io.out(json ? JSON.stringify(names) : names.join('\n') || '(no collections yet)');
      return 0;
    }
    if (!(await store.hasCollection(collection))) {
      io.err(`collection "${collection}" does not exist; run "rag-ingest list" to see the collections`);
      return 1;
    }
    const docs = await store.listDocuments(collection);
    io.out(json ? JSON.stringify(docs) : docs.map((d) => `${d.docId}\t${d.chunks} chunks\t${d.contentHash.slice(0, 12)}`).join('\n'));
    return 0;
  } finally {
    await store.close();
  }
}

/** Removes documents (by id) from a collection. */
export async function deleteCommand(config: Config, collection: string, docIds: string[], io: Output): Promise<number> {
  const store = await openVectorStore(config);
  try {
    if (!(await store.hasCollection(collection))) {
      io.err(`collection "${collection}" does not exist; run "rag-ingest list" to see the collections`);
      return 1;
    }
    const known = new Set((await store.listDocuments(collection)).map((d) => d.docId));
    let missing = 0;
    for (const id of docIds) {
      if (!known.has(id)) {
        io.err(`no document "${id}" in ${collection}; run "rag-ingest list --collection ${collection}" to see its documents`);
        missing++;
        continue;
      }
      await store.deleteDocument(collection, id);
      io.out(`deleted ${id}`);
    }
    return missing > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}
