import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExtractiveAnswerer, type ConversationTurn } from '@rag/llm-client';
import { LocalHashEmbedder } from '../embed/local-hash.embedder';
import { useParsePool } from '../parse/parse-pool.spec-helper';
import { LanceDbStore } from '../store/lancedb.store';
import { answerQuestion, type AnswerDeps } from './answer-question';
import { ingestDocuments } from './ingest-documents';

// The sample collection (tools/dev-stack/sample-docs), with what each policy says about contractors.
const DOCS: Record<string, string> = {
  'vacation-policy.md': `# Vacation policy

## Annual leave

New employees get 25 vacation days per year, starting from their first day. After five years with the company, the allowance rises to 30 days per year.

## Contractors

Contractors get no paid vacation days from the company; their contract with their agency sets their time off.

## Public holidays

Public holidays do not count against your vacation allowance.
`,
  'onboarding.md': `# Onboarding guide

## Your first week

On your first day, your buddy meets you at reception at 9:30 and gives you your laptop and badge.

## Contractors

Contractors receive a visitor badge at reception. Contractors return the badge to reception on their last day.
`,
  'expenses.md': `# Travel and expenses

## How to claim

Submit every expense claim within 30 days of the trip through the finance portal. Claims are reimbursed with the next monthly salary.
`,
  'it-security.txt': `IT security basics

Passwords must be at least 14 characters long and unique for every service.

Two-factor authentication is mandatory for email, the VPN and the source code host.`,
};

const FIRST = 'How many vacation days do new employees get?';
const FOLLOW_UP = 'and for contractors?';

describe('answerQuestion in a conversation, extractive (real LanceDB, local embedder, no LLM)', () => {
  const parser = useParsePool();
  let dir: string;
  let store: LanceDbStore;
  let deps: AnswerDeps;
  const ask = (query: string, history?: ConversationTurn[], historyMaxTokens?: number) =>
    answerQuestion(historyMaxTokens === undefined ? deps : { ...deps, historyMaxTokens }, { tenant: 'default', query, history, collection: 'sample', topK: 3 });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rag-conversation-int-'));
    store = await LanceDbStore.open(dir);
    const embedder = new LocalHashEmbedder();
    deps = { store, embedder, answerer: new ExtractiveAnswerer() };
    const files = Object.entries(DOCS).map(([id, text]) => ({ id, read: async () => Buffer.from(text) }));
    const summary = await ingestDocuments({ store, embedder, parser }, files, {
      tenant: 'default',
      collection: 'sample',
      chunking: { size: 300, overlap: 50 },
    });
    expect(summary.failed).toEqual([]);
    await store.compact('default', 'sample');
  });

  afterAll(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers the first question from the vacation policy', async () => {
    const result = await ask(FIRST);
    expect(result.answer.startsWith('New employees get 25 vacation days per year')).toBe(true);
    expect(result.citations[0].source).toBe('vacation-policy.md');
  });

  it('answers the follow-up "and for contractors?" from the conversation: the contractors section of the vacation policy', async () => {
    const first = await ask(FIRST);
    const result = await ask(FOLLOW_UP, [
      { role: 'user', content: FIRST },
      { role: 'assistant', content: first.answer },
    ]);
    expect(result.citations[0]).toMatchObject({ source: 'vacation-policy.md', heading: 'Vacation policy > Contractors' });
    expect(result.answer.startsWith('Contractors get no paid vacation days from the company; their contract with their agency sets their time off. [1]')).toBe(
      true,
    );
  });

  // The README's example.
  it('answers "and after five years?" after the first question from the annual leave section', async () => {
    const result = await ask('and after five years?', [
      { role: 'user', content: FIRST },
      { role: 'assistant', content: 'New employees get 25 vacation days per year, starting from their first day. [1]' },
    ]);
    expect(result.answer.startsWith('After five years with the company, the allowance rises to 30 days per year. [1]')).toBe(true);
    expect(result.citations[0]).toMatchObject({ source: 'vacation-policy.md', heading: 'Vacation policy > Annual leave' });
  });

  it('retrieves something else for the same follow-up without the history', async () => {
    const result = await ask(FOLLOW_UP);
    expect(result.citations[0].source).toBe('onboarding.md');
    expect(result.answer.startsWith('Contractors receive a visitor badge at reception. [1]')).toBe(true);
  });

  it('forgets the turns beyond CHAT_HISTORY_MAX_TOKENS, oldest first', async () => {
    // The question about vacation days, then a long unrelated exchange that fills the budget.
    const history: ConversationTurn[] = [
      { role: 'user', content: FIRST },
      { role: 'assistant', content: 'New employees get 25 vacation days per year. [1]' },
      { role: 'user', content: 'Thanks, and another thing about the laptop and badge I get on my first day at reception?' },
      { role: 'assistant', content: 'x '.repeat(100) },
    ];
    // Both user turns lend their terms (the budget holds all 95 estimated tokens): the vacation question still counts.
    const within = await ask(FOLLOW_UP, history, 95);
    expect(within.citations[0].source).toBe('vacation-policy.md');
    // 94 drop the oldest turn, the vacation question: the follow-up is now about the badge at reception.
    const bounded = await ask(FOLLOW_UP, history, 94);
    expect(bounded.citations[0].source).toBe('onboarding.md');
    expect(bounded.answer).toMatch(/^Contractors [^.]* badge [^.]*reception[^.]*\. \[1\]/);
  });
});
