import type { Config } from '@rag/config';
import type { Output } from './ingest.command';
import { openVersionedStore } from './versioned-store';

const tenantFlag = (tenant: string) => (tenant === 'default' ? '' : ` --tenant ${tenant}`);

/** Lists the tenant's collections, or the documents of one of them. */
export async function listCommand(config: Config, tenant: string, collection: string | undefined, json: boolean, io: Output): Promise<number> {
  const store = await openVersionedStore(config);
  try {
    if (!collection) {
      const names = await store.listCollections(tenant);
      io.out(json ? JSON.stringify(names) : names.join('\n') || '(no collections yet)');
      return 0;
    }
    if (!(await store.hasCollection(tenant, collection))) {
      io.err(`collection "${collection}" does not exist; run "rag-ingest list${tenantFlag(tenant)}" to see the collections`);
      return 1;
    }
    const docs = await store.listDocuments(tenant, collection);
    io.out(json ? JSON.stringify(docs) : docs.map((d) => `${d.docId}\t${d.chunks} chunks\t${d.contentHash.slice(0, 12)}`).join('\n'));
    return 0;
  } finally {
    await store.close();
  }
}

/** Removes documents (by id) from one of the tenant's collections. */
export async function deleteCommand(config: Config, tenant: string, collection: string, docIds: string[], io: Output): Promise<number> {
  const store = await openVersionedStore(config);
  try {
    if (!(await store.hasCollection(tenant, collection))) {
      io.err(`collection "${collection}" does not exist; run "rag-ingest list${tenantFlag(tenant)}" to see the collections`);
      return 1;
    }
    const known = new Set((await store.listDocuments(tenant, collection)).map((d) => d.docId));
    let missing = 0;
    for (const id of docIds) {
      if (!known.has(id)) {
        io.err(`no document "${id}" in ${collection}; run "rag-ingest list --collection ${collection}${tenantFlag(tenant)}" to see its documents`);
        missing++;
        continue;
      }
      await store.deleteDocument(tenant, collection, id);
      io.out(`deleted ${id}`);
    }
    return missing > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}
