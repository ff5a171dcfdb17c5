import { deeplyNestedHtml, deeplyNestedPdf, json, quadraticMarkdown, zipBombDocx, type AppProcess } from '@rag/testing';
import { askAndWait, finishedRun, uploadFiles, useStack } from './support/stack';

interface IngestRun {
  finished: boolean;
  status: string;
  added: number;
  failed: number;
  failures: { doc_id: string; error: string }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Issue #13: one hostile upload used to hold a worker's event loop for
// minutes (every parser ran on it), so its questions waited and Bull could not
// renew the job's lock. A gateway and one worker run as real processes; while
// the worker loads a document of each format made to hurt its parser, it
// keeps answering questions on another collection about as fast as when idle,
// and the hostile documents fail by name, with the limit they hit.
describe('hostile documents (parse threads with a time and memory budget)', () => {
  const stack = useStack('rag-hostile-');
  let worker: AppProcess;

  const readRun = async (statusUrl: string): Promise<IngestRun> => (await json(await fetch(`${stack.base}${statusUrl}`))) as IngestRun;
  /** Asks one question on `sample` and waits for its answer; returns how long that took. */
  const ask = async (): Promise<number> => {
    const started = Date.now();
    const state = await askAndWait(stack.base, { query: 'When is the office closed?', collection: 'sample' }, 30);
    expect(state.status).toBe('completed');
    expect(state.result.citations[0].source).toBe('office.md');
    return Date.now() - started;
  };

  beforeAll(async () => {
    const env = {
      ...stack.env,
      WORKER_METRICS_PORT: '0',
      INGEST_CONCURRENCY: '2',
      // Small budgets, so the test runs in seconds: the defaults are 60 s, 512 MB and 200 MB.
      INGEST_PARSE_TIMEOUT_MS: '2000',
      INGEST_PARSE_MAX_MB: '256',
      INGEST_DOCX_MAX_UNCOMPRESSED_MB: '10',
    };
    ({
      workers: [worker],
    } = await stack.startGatewayAndWorkers(env));
    const seeded = await uploadFiles(stack.base, 'sample', [
      ['office.md', '# Office\n\n## Holidays\n\nThe office is closed on public holidays and between Christmas and New Year.'],
    ]);
    expect(await finishedRun(stack.base, seeded)).toMatchObject({ status: 'completed', added: 1 });
  });

  it('keeps answering questions while hostile .md, .html, .pdf and .docx load, and fails each of them by name', async () => {
    const baseline: number[] = [];
    for (let i = 0; i < 5; i++) baseline.push(await ask());
    const unloaded = Math.max(...baseline);

    const statusUrl = await uploadFiles(stack.base, 'redos', [
      // marked needs about 20 s for this one on the event loop; the regexes before it, minutes for 1 MB.
      ['quadratic.md', quadraticMarkdown(20_000)],
      ['nested.html', deeplyNestedHtml(1_000_000)],
      ['nested.pdf', deeplyNestedPdf(500_000)],
      ['bomb.docx', await zipBombDocx(50)],
      ['fine.md', '# Fine\n\nAn ordinary document in the same upload still loads.'],
    ]);
    const loaded: number[] = [];
    let run = await readRun(statusUrl);
    for (const deadline = Date.now() + 90_000; !run.finished && Date.now() < deadline; run = await readRun(statusUrl)) {
      loaded.push(await ask());
      await sleep(100);
    }

    expect(run).toMatchObject({ finished: true, status: 'completed_with_failures', added: 1, failed: 4 });
    const errors = Object.fromEntries(run.failures.map((f) => [f.doc_id, f.error]));
    expect(errors['quadratic.md']).toBe('quadratic.md: parsing took longer than INGEST_PARSE_TIMEOUT_MS (2000 ms); split the document or raise the limit');
    expect(errors['nested.html']).toMatch(
      /^nested\.html: parsing (took longer than INGEST_PARSE_TIMEOUT_MS \(2000 ms\)|needed more memory than INGEST_PARSE_MAX_MB \(256 MB\)); split the document or raise the limit$/,
    );
    // pdf.js gives up on the nesting itself (its parser recurses once per level) before any budget runs out.
    expect(errors['nested.pdf']).toMatch(/^nested\.pdf: not a readable PDF \(.*\); if it is encrypted or scanned, export it as text first$/);
    expect(errors['bomb.docx']).toBe(
      'bomb.docx: its archive unpacks to more than INGEST_DOCX_MAX_UNCOMPRESSED_MB (10 MB); if it is a real document, split it or raise the limit',
    );

    // Questions went on the whole time, each about as fast as with nothing loading (a generous bound:
    // on the event loop, the Markdown file alone held every question for about 20 s).
    expect(loaded.length).toBeGreaterThanOrEqual(3);
    expect(loaded.filter((ms) => ms > unloaded + 3000)).toEqual([]);
    // The worker lived through it: its threads were replaced, not the process.
    expect(worker.child.exitCode).toBeNull();
    expect(
      worker
        .logs()
        .filter((l) => l.message === 'document ingest failed')
        .map((l) => [l.doc_id, l.permanent]),
    ).toEqual(
      expect.arrayContaining([
        ['quadratic.md', true],
        ['nested.html', true],
        ['nested.pdf', true],
        ['bomb.docx', true],
      ]),
    );
  });
});
