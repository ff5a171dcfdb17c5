/**
 * The design this service replaced: POST /v1/chat runs the whole pipeline
 * inside the request (retrieve, then ask the LLM) and answers only when the
 * answer is ready. Same libraries, same store and LLM as the real stack.
 */
import { loadConfig } from '@rag/config';
import { createAnswerer } from '@rag/llm-client';
import { answerQuestion, createEmbedder, openVectorStore } from '@rag/retrieval';
import express from 'express';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const store = await openVectorStore(config);
  const deps = { store, embedder: createEmbedder(config), answerer: createAnswerer(config) };
  const app = express();
  app.use(express.json({ limit: 65536 }));
  app.post('/v1/chat', async (req, res) => {
    const body = req.body as { query?: string; collection?: string };
    const result = await answerQuestion(deps, {
      tenant: 'default',
      query: String(body.query),
      collection: body.collection ?? 'sample',
      topK: 5,
      enqueuedAt: Date.now(),
    });
    res.json(result);
  });
  const server = app.listen(config.PORT, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ message: 'listening' })}\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

void main();
