/**
 * The framework's limit: an Express app whose POST /v1/chat parses the JSON
 * body and answers 202 with a made-up job id, doing nothing else.
 */
import express from 'express';
import { randomUUID } from 'node:crypto';

const app = express();
app.use(express.json({ limit: 65536 }));
app.post('/v1/chat', (_req, res) => {
  const id = randomUUID();
  res.status(202).json({ job_id: id, status: 'queued', status_url: `/v1/jobs/${id}` });
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ message: 'listening' })}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
