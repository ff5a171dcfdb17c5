import { runApp } from '@rag/testing';

// The gateway never parses documents and a worker parses in its threads: importing the library must not load
// pdf.js, mammoth, cheerio or the tokenizer's table (tens of MB of resident memory each); only parsing a file of
// their format, or chunking by tokens, does.
describe('the heavy parsers load on first use (a real child process)', () => {
  it('loads none of them with @rag/retrieval, cheerio once an HTML file is parsed, the tokenizer once it is chunked', async () => {
    const run = await runApp('libs/retrieval/src/load/heavy-parsers.probe.ts', {});
    expect(run.stderr).toBe('');
    const { atImport, afterHtml, afterChunking } = JSON.parse(run.stdout) as Record<string, string[]>;
    expect(atImport).toEqual([]);
    expect(afterHtml).toContain('cheerio');
    expect(afterHtml).not.toContain('gpt-tokenizer');
    expect(afterChunking).toContain('gpt-tokenizer');
  });

  it("does not load Qdrant's client (and its undici) with @rag/retrieval: a QdrantStore imports it with its first call", async () => {
    const run = await runApp('libs/retrieval/src/load/heavy-parsers.probe.ts', {});
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ qdrantAtImport: false });
  });
});
