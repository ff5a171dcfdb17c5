import OpenAI from 'openai';
import { fakeEmbedding } from './fake-embedding';
import { useFakeOpenAISuite } from './fake-openai-suite.spec-helper';

const MODEL = 'text-embedding-3-small';

function cosine(a: number[], b: number[]): number {
  return a.reduce((sum, v, i) => sum + v * b[i], 0);
}

function norm(v: number[]): number {
  return Math.sqrt(cosine(v, v));
}

describe('POST /v1/embeddings', () => {
  const suite = useFakeOpenAISuite();

  it('answers the official client with float vectors in the OpenAI shape', async () => {
    const res = await suite.client.embeddings.create({ model: MODEL, input: 'The vacation policy', encoding_format: 'float' });
    expect(res).toMatchObject({ object: 'list', model: MODEL, usage: { prompt_tokens: 3, total_tokens: 3 } });
    expect(res.data).toHaveLength(1);
    expect(res.data[0]).toMatchObject({ object: 'embedding', index: 0 });
    expect(res.data[0].embedding).toHaveLength(256);
    expect(norm(res.data[0].embedding)).toBeCloseTo(1, 5);
    expect(suite.fake.requests[0]).toMatchObject({ method: 'POST', path: '/v1/embeddings', body: { encoding_format: 'float' } });
  });

  it('serves base64 (what the client asks for by default) with the same numbers as float', async () => {
    const input = ['Refunds take five business days.', 'Our office is in Lisbon.'];
    const viaBase64 = await suite.client.embeddings.create({ model: MODEL, input });
    const viaFloat = await suite.client.embeddings.create({ model: MODEL, input, encoding_format: 'float' });
    expect(suite.fake.requests[0].body).toMatchObject({ encoding_format: 'base64' });
    expect(viaBase64.data.map((d) => d.embedding)).toEqual(viaFloat.data.map((d) => d.embedding));
    expect(viaBase64.data[0].embedding).toEqual(fakeEmbedding(input[0], 256));
  });

  it('keeps batch order and index, and gives the same text the same vector', async () => {
    const input = ['alpha beta', 'gamma delta', 'alpha beta', 'epsilon'];
    const res = await suite.client.embeddings.create({ model: MODEL, input, encoding_format: 'float' });
    expect(res.data.map((d) => d.index)).toEqual([0, 1, 2, 3]);
    expect(res.data[0].embedding).toEqual(res.data[2].embedding);
    expect(res.data[0].embedding).not.toEqual(res.data[1].embedding);
    const again = await suite.client.embeddings.create({ model: MODEL, input: 'gamma delta', encoding_format: 'float' });
    expect(again.data[0].embedding).toEqual(res.data[1].embedding);
  });

  it('puts texts that share words closer together than unrelated ones', async () => {
    const [query, related, unrelated] = (
      await suite.client.embeddings.create({
        model: MODEL,
        input: ['How many vacation days do employees get?', 'Employees get 25 vacation days per year.', 'The parking garage closes at midnight.'],
      })
    ).data.map((d) => d.embedding);
    expect(cosine(query, related)).toBeGreaterThan(cosine(query, unrelated) + 0.3);
  });

  it('honours the dimensions parameter and the dimension option', async () => {
    const res = await suite.client.embeddings.create({ model: MODEL, input: ['one', 'two'], dimensions: 64 });
    expect(res.data.map((d) => d.embedding.length)).toEqual([64, 64]);
    suite.fake.setOptions({ dimension: 32 });
    const configured = await suite.client.embeddings.create({ model: MODEL, input: 'one' });
    expect(configured.data[0].embedding).toHaveLength(32);
    expect(norm(configured.data[0].embedding)).toBeCloseTo(1, 5);
  });

  it('accepts token arrays', async () => {
    const res = await suite.client.embeddings.create({ model: MODEL, input: [[1, 2, 3], [1, 2, 3], [4]], encoding_format: 'float' });
    expect(res.data).toHaveLength(3);
    expect(res.data[0].embedding).toEqual(res.data[1].embedding);
    const single = await suite.client.embeddings.create({ model: MODEL, input: [1, 2, 3], encoding_format: 'float' });
    expect(single.data[0].embedding).toEqual(res.data[0].embedding);
  });

  it('rejects a missing or empty input with a 400 the client reads as BadRequestError', async () => {
    const missing = suite.client.embeddings.create({ model: MODEL } as unknown as OpenAI.EmbeddingCreateParams);
    await expect(missing).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(suite.client.embeddings.create({ model: MODEL, input: [] })).rejects.toMatchObject({
      status: 400,
      error: { type: 'invalid_request_error', param: 'input' },
    });
    await expect(suite.client.embeddings.create({ model: MODEL, input: 'x', dimensions: 0 })).rejects.toMatchObject({ status: 400, param: 'dimensions' });
  });

  it('waits embeddingLatencyMs before answering', async () => {
    suite.fake.setOptions({ embeddingLatencyMs: 150 });
    const started = performance.now();
    await suite.client.embeddings.create({ model: MODEL, input: 'slow' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});
