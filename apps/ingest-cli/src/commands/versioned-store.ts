import { openRedis, type Config } from '@rag/config';
import { CollectionVersions } from '@rag/jobs';
import { PermanentError } from '@rag/core';
import { VersionedVectorStore, openVectorStore, type VectorStore, type VersionRegistry } from '@rag/retrieval';

/**
 * Without Redis, which version of a collection is in use is unknown: a
 * collection never rebuilt (version 1 only) is read and written as before;
 * one that has later versions is refused, saying to start Redis.
 */
class OfflineVersions implements VersionRegistry {
  constructor(private readonly store: VectorStore) {}

  async activeVersion(tenant: string, collection: string): Promise<number> {
    const versions = await this.store.collectionVersions(tenant, collection);
    if (versions.some((v) => v > 1)) {
      throw new PermanentError(
        `collection "${collection}" has been rebuilt (reindex) and the version in use is recorded in Redis, which does not answer at REDIS_URL; start it or set REDIS_URL`,
        { code: 'versions_unavailable' },
      );
    }
    return 1;
  }
  async rebuildInProgress(): Promise<undefined> {
    return undefined;
  }
  async forget(): Promise<void> {
    // Nothing is recorded without Redis.
  }
}

/**
 * The vector store as the CLI's commands use it: every collection at the
 * version in use, read from Redis (CollectionVersions), like the gateway's
 * and the workers'. When Redis does not answer (a local load with no stack
 * running), see OfflineVersions. `close` closes the Redis connection too.
 */
export async function openVersionedStore(config: Config): Promise<VersionedVectorStore> {
  const inner = await openVectorStore(config);
  const redis = openRedis(config, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 2_000,
    retryStrategy: (times) => (times > 3 ? null : 200),
  });
  redis.on('error', () => undefined);
  let registry: VersionRegistry;
  try {
    await redis.connect();
    registry = new CollectionVersions(redis, config.QUEUE_PREFIX, config.JOB_RETENTION_SECONDS);
  } catch {
    redis.disconnect();
    registry = new OfflineVersions(inner);
  }
  const closing: VectorStore = {
    ...bound(inner),
    close: async () => {
      redis.disconnect();
      await inner.close();
    },
  };
  return new VersionedVectorStore(closing, registry);
}

/** `store`'s methods bound to it, as a plain object. */
function bound(store: VectorStore): VectorStore {
  return {
    backend: store.backend,
    ensureCollection: store.ensureCollection.bind(store),
    collectionInfo: store.collectionInfo.bind(store),
    replaceDocument: store.replaceDocument.bind(store),
    deleteDocument: store.deleteDocument.bind(store),
    deleteCollection: store.deleteCollection.bind(store),
    listDocuments: store.listDocuments.bind(store),
    documentChunks: store.documentChunks.bind(store),
    collectionVersions: store.collectionVersions.bind(store),
    documentHash: store.documentHash.bind(store),
    listCollections: store.listCollections.bind(store),
    hasCollection: store.hasCollection.bind(store),
    sampleChunks: store.sampleChunks.bind(store),
    searchVector: store.searchVector.bind(store),
    searchText: store.searchText.bind(store),
    hybridSearch: store.hybridSearch.bind(store),
    compact: store.compact.bind(store),
    close: store.close.bind(store),
  };
}
