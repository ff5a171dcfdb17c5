import OpenAI from 'openai';
import type { FakeOpenAIOptions } from './options';
import { startFakeOpenAI, type FakeOpenAI } from './server';

export interface FakeOpenAISuite {
  readonly fake: FakeOpenAI;
  /** The official client on the fake, with the suite's API key and no retries. */
  readonly client: OpenAI;
}

/**
 * A fake server and the official client on it for the enclosing `describe`:
 * started before its tests, reset after each, closed after all. Read its fields
 * inside hooks and tests (they exist only once the suite has started).
 */
export function useFakeOpenAISuite(options: FakeOpenAIOptions = {}): FakeOpenAISuite {
  let fake: FakeOpenAI | undefined;
  let client: OpenAI | undefined;
  beforeAll(async () => {
    fake = await startFakeOpenAI(options);
    client = new OpenAI({ baseURL: fake.url, apiKey: 'test-key', maxRetries: 0 });
  });
  afterEach(() => fake?.reset());
  afterAll(() => fake?.close());
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useFakeOpenAISuite: read its fields inside a hook or test, once the suite has started');
    return value;
  };
  return {
    get fake() {
      return started(fake);
    },
    get client() {
      return started(client);
    },
  };
}
