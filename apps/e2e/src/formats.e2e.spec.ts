import { json, makeDocx, makePdf, runApp } from '@rag/testing';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI_MAIN, useStack } from './support/stack';

interface Citation {
  source: string;
  position: number;
  heading?: string;
  page?: number;
  chunk: string;
}

// Every supported format, made by real writers (pdfkit, docx) or written as
// text, loaded by the CLI into one collection and asked about through the
// real gateway and worker: each answer cites the right document, and the
// right page (PDF) or heading (DOCX, HTML, Markdown).
describe('documents of every format, answered with citations', () => {
  const stack = useStack('rag-formats-');
  let load: { code: number | null; stdout: string; stderr: string };

  beforeAll(async () => {
    const env = stack.env;
    const docs = path.join(stack.data.path, 'docs');
    fs.mkdirSync(path.join(docs, 'hr'), { recursive: true });
    fs.writeFileSync(
      path.join(docs, 'facilities.pdf'),
      await makePdf('Facilities Manual', [
        ['Welcome to the campus. This manual covers the buildings.'],
        ['The badge office opens at 8 am in building C.'],
        ['Bicycles are parked in the basement of building A.'],
      ]),
    );
    fs.writeFileSync(
      path.join(docs, 'hr/handbook.docx'),
      await makeDocx([
        { heading: 'Employee Handbook', level: 1 },
        { heading: 'Leave', level: 2 },
        { text: 'Everyone gets 25 vacation days a year.' },
        { heading: 'Remote work', level: 2 },
        { text: 'Remote work needs approval from your team lead.' },
      ]),
    );
    fs.writeFileSync(
      path.join(docs, 'parking.html'),
      '<html><head><title>Parking</title></head><body><nav>Home | Menu</nav><h2>Permits</h2><p>Parking permits are renewed every January.</p></body></html>',
    );
    fs.writeFileSync(path.join(docs, 'security.md'), '# Security\n\n## Passwords\n\nPasswords rotate every 90 days.\n');
    fs.writeFileSync(path.join(docs, 'cafeteria.txt'), 'The cafeteria serves vegetarian lunch on Thursdays.');
    fs.writeFileSync(path.join(docs, 'broken.pdf'), '%PDF-1.7 this is not really a PDF');
    load = await runApp(CLI_MAIN, env, [docs, '--collection', 'formats', '--no-progress', '--json']);
    await stack.startGatewayAndWorkers(env);
  });

  const ask = async (query: string) => {
    const res = await fetch(`${stack.base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, collection: 'formats', top_k: 3 }),
    });
    expect(res.status).toBe(202);
    const { job_id } = await json(res);
    const state = await json(await fetch(`${stack.base}/v1/jobs/${job_id}?wait=20`));
    expect(state.status).toBe('completed');
    return state.result as { answer: string; citations: Citation[] };
  };

  it('loads every readable file, names the broken one, and exits non-zero', () => {
    expect(load.code).toBe(1);
    const summary = JSON.parse(load.stdout);
    expect(summary).toMatchObject({ documents: 6, added: 5 });
    expect(summary.failed).toEqual([{ id: 'broken.pdf', error: expect.stringContaining('not a readable PDF') }]);
    expect(load.stderr).toContain('failed broken.pdf');
  });

  it.each([
    ['When does the badge office open?', 'facilities.pdf', { page: 2, position: 1 }, '8 am'],
    ['Where are bicycles parked?', 'facilities.pdf', { page: 3, position: 2 }, 'basement'],
    ['Who approves remote work?', 'hr/handbook.docx', { heading: 'Employee Handbook > Remote work' }, 'team lead'],
    ['When are parking permits renewed?', 'parking.html', { heading: 'Permits' }, 'January'],
    ['How often do passwords rotate?', 'security.md', { heading: 'Security > Passwords' }, '90 days'],
    ['What does the cafeteria serve on Thursdays?', 'cafeteria.txt', {}, 'vegetarian'],
  ])('%s → cites %s %j', async (query, source, where, fact) => {
    const result = await ask(query);
    expect(result.answer).toContain(fact);
    const first = result.citations[0];
    expect(first).toMatchObject({ source, ...where });
    expect(first.chunk).toContain(fact);
    if (!('page' in where)) expect(first).not.toHaveProperty('page');
  });
});
