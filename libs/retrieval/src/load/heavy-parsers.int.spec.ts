import { runApp } from '@rag/testing';

// The gateway never parses documents and a worker parses in its threads: importing the library must not load
// pdf.js, mammoth or cheerio (tens of MB of resident memory), only parsing a file of their format does.
describe('the heavy parsers load on first use (a real child process)', () => {
  it('loads none of them with @rag/retrieval, and cheerio once an HTML file is parsed', async () => {
    const run = await runApp('libs/retrieval/src/load/heavy-parsers.probe.ts', {});
    expect(run.stderr).toBe('');
    const { atImport, afterHtml } = JSON.parse(run.stdout) as { atImport: string[]; afterHtml: string[] };
    expect(atImport).toEqual([]);
    expect(afterHtml).toContain('cheerio');
  });
});
