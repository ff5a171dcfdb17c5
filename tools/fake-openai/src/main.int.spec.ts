import { spawn } from 'node:child_process';
import * as path from 'node:path';
import OpenAI from 'openai';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');

/** main.ts as a real process, through tsx's loader so signals reach it directly. */
function startMain(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tools/fake-openai/src/main.ts', ...args], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: path.join(WORKSPACE_ROOT, 'tsconfig.base.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = new Promise<{ url: string; port: number }>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      for (const line of stdout.split('\n')) {
        try {
          const parsed = JSON.parse(line) as { message?: string; url: string; port: number };
          if (parsed.message === 'listening') resolve(parsed);
        } catch {
          // not a whole JSON line yet
        }
      }
    });
    void exited.then((code) => reject(new Error(`main.ts exited with ${code} before listening:\n${stdout}${stderr}`)));
  });
  // Tests that expect an early exit never await it.
  listening.catch(() => undefined);
  return { child, listening, exited, output: () => stdout + stderr };
}

describe('main.ts', () => {
  it('runs as a process configured by flags and env, and exits 0 on SIGTERM', async () => {
    const app = startMain(['--first-token-ms', '100', '--api-key', 'proc-key', '--model', 'alpha'], {
      FAKE_OPENAI_PORT: '0',
      PORT: '1',
      FAKE_OPENAI_DIMENSION: '16',
    });
    try {
      const { url, port } = await app.listening;
      expect(url).toBe(`http://127.0.0.1:${port}/v1`);
      expect(port).toBeGreaterThan(1);

      const client = new OpenAI({ baseURL: url, apiKey: 'proc-key', maxRetries: 0 });
      const started = performance.now();
      const chat = await client.chat.completions.create({
        model: 'alpha',
        messages: [{ role: 'user', content: '[1] Fakes are fast.\nQuestion: are fakes fast?' }],
      });
      expect(performance.now() - started).toBeGreaterThanOrEqual(95);
      expect(chat.choices[0].message.content).toBe('Fakes are fast. [1]');
      const embedding = await client.embeddings.create({ model: 'e', input: 'x' });
      expect(embedding.data[0].embedding).toHaveLength(16);
      await expect(new OpenAI({ baseURL: url, apiKey: 'wrong', maxRetries: 0 }).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);

      const admin = url.replace(/\/v1$/, '/__admin');
      await fetch(`${admin}/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'status500', times: 1 }),
      });
      await expect(client.models.list()).rejects.toBeInstanceOf(OpenAI.InternalServerError);
      const { data } = (await (await fetch(`${admin}/requests`)).json()) as { data: { path: string }[] };
      expect(data.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/embeddings', '/v1/models', '/v1/models']);

      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
      expect(app.output()).not.toContain('proc-key');
    } finally {
      app.child.kill('SIGKILL');
    }
  });

  it('fails fast with exit code 2 on a bad flag value', async () => {
    const app = startMain(['--per-token-ms', 'soon']);
    expect(await app.exited).toBe(2);
    expect(app.output()).toContain('--per-token-ms must be a non-negative number, got "soon"');
  });
});
