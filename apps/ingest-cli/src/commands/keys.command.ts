import { ApiKeyInputError, ApiKeyStore, type ApiKeyRecord } from '@rag/auth';
import type { Config } from '@rag/config';
import Redis from 'ioredis';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Output } from './ingest.command';
import { connectRedis as connect } from './redis-connection';

export type KeysAction =
  | { action: 'create'; tenant: string; scopes: string[]; name?: string; json?: boolean }
  | { action: 'list'; json?: boolean }
  | { action: 'revoke'; ids: string[] }
  | { action: 'dev-key'; file: string };

const line = (r: ApiKeyRecord) =>
  `${r.id}\t${r.tenant}\t${r.scopes.join(',')}\tcreated ${r.created_at}\t${r.revoked_at ? `revoked ${r.revoked_at}` : 'active'}${r.name ? `\t${r.name}` : ''}`;

/** Manages the gateway's API keys in Redis. A plain key is printed once, at creation, and never stored. */
export async function keysCommand(config: Config, cmd: KeysAction, io: Output): Promise<number> {
  let redis: Redis;
  try {
    redis = await connect(config);
  } catch (error) {
    io.err(`error: ${(error as Error).message}`);
    return 1;
  }
  const store = new ApiKeyStore(redis, config.QUEUE_PREFIX);
  try {
    switch (cmd.action) {
      case 'create': {
        const { key, record } = await store.create({ tenant: cmd.tenant, scopes: cmd.scopes, name: cmd.name, grantedBy: 'cli' });
        if (cmd.json) io.out(JSON.stringify({ key, ...record }));
        else {
          io.out(key);
          io.err(
            `created ${record.id} for tenant ${record.tenant} with scopes ${record.scopes.join(',')}; the key above is shown only now (send it as Authorization: Bearer <key>)`,
          );
        }
        return 0;
      }
      case 'list': {
        const records = await store.list();
        if (cmd.json) io.out(JSON.stringify(records));
        else if (records.length === 0) io.out('no API keys; create one with: rag-ingest keys create --tenant <tenant> --scopes query');
        else for (const r of records) io.out(line(r));
        return 0;
      }
      case 'revoke': {
        let missing = 0;
        for (const id of cmd.ids) {
          const record = await store.revoke(id);
          if (record) io.out(`revoked ${id} (tenant ${record.tenant})`);
          else {
            io.err(`no API key ${id}; run "rag-ingest keys list" to see them`);
            missing++;
          }
        }
        return missing > 0 ? 1 : 0;
      }
      case 'dev-key': {
        // npm start: reuse the key kept in the file while Redis still knows it, else make a new one.
        if (existsSync(cmd.file)) {
          const kept = readFileSync(cmd.file, 'utf8').trim();
          const record = kept ? await store.verify(kept) : null;
          if (record?.scopes.includes('operator')) {
            io.out(kept);
            return 0;
          }
          // A key kept from before the operator role cannot open the dashboard: replace it.
          if (record) await store.revoke(record.id);
        }
        // The developer runs the whole stack: operator too, so the queue dashboard opens with this key.
        const { key } = await store.create({
          tenant: 'default',
          scopes: ['query', 'ingest', 'admin', 'operator'],
          name: 'dev key (npm start)',
          grantedBy: 'cli',
        });
        mkdirSync(path.dirname(cmd.file), { recursive: true });
        writeFileSync(cmd.file, `${key}\n`, { mode: 0o600 });
        chmodSync(cmd.file, 0o600);
        io.out(key);
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof ApiKeyInputError) {
      io.err(`error: ${error.message}`);
      return 2;
    }
    throw error;
  } finally {
    redis.disconnect();
  }
}
