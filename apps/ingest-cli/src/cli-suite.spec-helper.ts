import { startRedis, startedFields, tempDir, type PrivateRedis, type TempDir } from '@rag/testing';

/** The CLI's entry point, for runApp. */
export const CLI = 'apps/ingest-cli/src/main.ts';

export interface CliSuite {
  readonly redis: PrivateRedis;
  readonly data: TempDir;
}

/**
 * A private redis-server and a temporary folder for the enclosing `describe`:
 * started before its tests; after them, `teardown` (e.g. closing the suite's own
 * connections), then the server stops and the folder goes. Read its fields
 * inside hooks and tests (they exist only once the suite has started).
 */
export function useCliSuite(tempPrefix: string, teardown: () => unknown = () => undefined): CliSuite {
  let redis: PrivateRedis | undefined;
  let data: TempDir | undefined;
  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir(tempPrefix);
  });
  afterAll(async () => {
    await teardown();
    await redis?.stop();
    data?.remove();
  });
  return startedFields<CliSuite>('useCliSuite', { redis: () => redis, data: () => data });
}
