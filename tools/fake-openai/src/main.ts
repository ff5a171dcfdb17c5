import { CliUsageError, USAGE, parseCliOptions } from './cli-options';
import { InvalidOptionsError } from './options';
import { startFakeOpenAI } from './server';

// Logs are JSON lines on stdout. Requests are not logged: their headers hold API keys.
function log(message: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ message, ...fields })}\n`);
}

async function main(): Promise<void> {
  const { help, ...options } = parseCliOptions(process.argv.slice(2), process.env);
  if (help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const fake = await startFakeOpenAI(options);
  log('listening', { url: fake.url, port: fake.port, apiKeyRequired: options.apiKey !== undefined });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    await fake.close();
    log('stopped', { signal });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  const usage = error instanceof CliUsageError || error instanceof InvalidOptionsError;
  process.stderr.write(`fake-openai failed to start: ${error instanceof Error ? error.message : String(error)}\n${usage ? `${USAGE}\n` : ''}`);
  process.exit(usage ? 2 : 1);
});
