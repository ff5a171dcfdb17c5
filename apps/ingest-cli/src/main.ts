import { errorMessage } from '@rag/observability';
import { runCli } from './cli';

runCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  stream: process.stderr,
})
  .then((code) => process.exit(code))
  .catch((error) => {
    process.stderr.write(`rag-ingest: ${errorMessage(error)}\n`);
    process.exit(1);
  });
