import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '@rag/config';
import { startFakeQdrant } from '@rag/fake-qdrant';
import { openVectorStore } from './backends';
import { LanceDbStore } from './store/lancedb.store';
import { QdrantStore } from './store/qdrant.store';

const embedder = { id: 'local-hash-64', dimension: 64 };

describe('openVectorStore', () => {
  it('opens Qdrant at QDRANT_URL with QDRANT_API_KEY and QDRANT_TIMEOUT_MS for VECTOR_STORE=qdrant', async () => {
    const fake = await startFakeQdrant({ apiKey: 'backend-key' });
    try {
      const config = loadConfig({ VECTOR_STORE: 'qdrant', QDRANT_URL: fake.url, QDRANT_API_KEY: 'backend-key', QDRANT_TIMEOUT_MS: '150' });
      const store = await openVectorStore(config);
      expect(store).toBeInstanceOf(QdrantStore);
      expect(store.backend).toBe('qdrant');
      await store.ensureCollection('default', 'docs', embedder);
      expect(await store.listCollections('default')).toEqual(['docs']);
      expect(fake.requests.every((r) => r.apiKey)).toBe(true);
      // The timeout reaches the client.
      fake.injectFault({ operationId: 'get_collections', delayMs: 500 });
      await expect(store.listCollections('default')).rejects.toThrow(/^Qdrant list collections failed/);
      await store.close();
      expect(fake.invalid).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it('opens LanceDB in DATA_DIR for VECTOR_STORE=lancedb', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rag-backends-'));
    try {
      const store = await openVectorStore(loadConfig({ VECTOR_STORE: 'lancedb', DATA_DIR: dir }));
      expect(store).toBeInstanceOf(LanceDbStore);
      await store.ensureCollection('default', 'docs', embedder);
      expect(fs.readdirSync(path.join(dir, 'lancedb'))).toContain('docs.lance');
      await store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
