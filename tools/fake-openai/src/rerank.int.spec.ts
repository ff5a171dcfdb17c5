import { useFakeOpenAISuite } from './fake-openai-suite.spec-helper';

const DOCS = ['Parking is behind building B.', 'Vacation days: employees get 25 vacation days per year.', 'Employees expense claims.'];
const QUERY = 'How many vacation days do employees get?';

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // plain-text refusals stay text
  }
  return { status: res.status, body: parsed };
}

describe('POST /rerank and /v1/rerank (the common rerank protocol)', () => {
  const suite = useFakeOpenAISuite();
  const root = () => suite.fake.url.replace(/\/v1$/, '');

  it('answers `texts` as Text Embeddings Inference does: every text, by the share of the query’s content words (many, vacation, days, employees, get) each holds, as [{index, score}]', async () => {
    const res = await post(`${root()}/rerank`, { query: QUERY, texts: DOCS });
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { index: 1, score: 0.8 },
      { index: 2, score: 0.2 },
      { index: 0, score: 0 },
    ]);
    expect(suite.fake.requests[0]).toMatchObject({ method: 'POST', path: '/rerank' });
  });

  it('answers `documents` as Jina and Cohere do, cut to top_n, under /v1 too', async () => {
    const res = await post(`${suite.fake.url}/rerank`, { model: 'rerank-test', query: QUERY, documents: DOCS, top_n: 2, return_documents: false });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      model: 'rerank-test',
      results: [
        { index: 1, relevance_score: 0.8 },
        { index: 2, relevance_score: 0.2 },
      ],
    });
    expect((res.body as { results: object[] }).results[0]).not.toHaveProperty('document');
  });

  it('is strict when asked to be: tei wants `texts`, cohere refuses fields it does not know', async () => {
    suite.fake.setOptions({ rerankDialect: 'tei' });
    const tei = await post(`${root()}/rerank`, { query: QUERY, documents: DOCS });
    expect(tei).toEqual({ status: 422, body: expect.stringContaining('missing field `texts`') });
    suite.fake.setOptions({ rerankDialect: 'cohere' });
    const cohere = await post(`${root()}/rerank`, { query: QUERY, documents: DOCS, texts: DOCS });
    expect(cohere).toEqual({ status: 422, body: { message: "unknown field: parameter 'texts' is not a valid field" } });
  });

  it('refuses bad bodies with 4xx and applies the key and the rerank faults', async () => {
    expect((await post(`${root()}/rerank`, { query: QUERY })).status).toBe(422);
    expect((await post(`${root()}/rerank`, { query: '', documents: DOCS })).status).toBe(422);
    expect((await post(`${root()}/rerank`, { query: QUERY, documents: [] })).status).toBe(400);
    suite.fake.setOptions({ apiKey: 'rerank-key-0123456789' });
    expect((await post(`${root()}/rerank`, { query: QUERY, documents: DOCS })).status).toBe(401);
    expect((await post(`${root()}/rerank`, { query: QUERY, documents: DOCS }, { authorization: 'Bearer rerank-key-0123456789' })).status).toBe(200);
    suite.fake.setOptions({ apiKey: null, fault: { kind: 'status500', endpoints: ['rerank'], times: 1 } });
    expect((await post(`${root()}/rerank`, { query: QUERY, documents: DOCS })).status).toBe(500);
    expect((await post(`${root()}/rerank`, { query: QUERY, documents: DOCS })).status).toBe(200);
  });
});
