import { NO_ANSWER_TEXT, type Passage } from './answerer';
import { ExtractiveAnswerer } from './extractive.answerer';

const passage = (n: number, text: string, extra: Partial<Passage> = {}): Passage => ({ n, text, source: `doc-${n}.md`, ...extra });

/** The answer split back into its cited sentences: `Sentence. [n]` pairs. */
function citedSentences(text: string): { sentence: string; n: number }[] {
  return [...text.matchAll(/(.+?) \[(\d+)\](?: |$)/g)].map((m) => ({ sentence: m[1], n: Number(m[2]) }));
}

describe('ExtractiveAnswerer', () => {
  const answerer = new ExtractiveAnswerer();

  it('identifies itself', () => {
    expect(answerer.backend).toBe('extractive');
    expect(answerer.model).toBe('extractive-bm25-v1');
  });

  it('answers with the sentence that holds the fact and cites its passage', async () => {
    const answer = await answerer.answer({
      query: 'How many vacation days do employees get?',
      passages: [
        passage(1, 'The office opens at 9am. Parking is free for all staff.'),
        passage(2, 'Employees get 25 vacation days per year. The canteen serves lunch at noon.'),
      ],
    });
    expect(answer.text).toBe('Employees get 25 vacation days per year. [2]');
    expect(answer.cited).toEqual([2]);
    expect(answer.model).toBe('extractive-bm25-v1');
  });

  it('writes its whole answer to onToken once, so a client following the events reads it there', async () => {
    const pieces: string[] = [];
    const answer = await answerer.answer({
      query: 'How many vacation days do employees get?',
      passages: [passage(1, 'Employees get 25 vacation days per year.')],
      onToken: (text) => pieces.push(text),
    });
    expect(pieces).toEqual([answer.text]);
    const none: string[] = [];
    const nothing = await answerer.answer({ query: 'parking garage', passages: [passage(1, 'Employees get 25 vacation days.')], onToken: (t) => none.push(t) });
    expect(none).toEqual([NO_ANSWER_TEXT]);
    expect(nothing.text).toBe(NO_ANSWER_TEXT);
  });

  it("cites every passage that answers before a passage's second-best sentence: a best passage ranked fourth is still cited", async () => {
    const passages = [
      passage(1, 'Employees get 25 vacation days per year. Employees plan vacation days with their manager.'),
      passage(2, 'The office opens at 9am.'),
      passage(3, 'Parking is free for all staff.'),
      passage(4, 'Vacation days are listed in the handbook.'),
    ];
    const answerer = new ExtractiveAnswerer({ maxSentences: 2, relativeCutoff: 0.2 });
    const answer = await answerer.answer({ query: 'How many vacation days do employees get?', passages });
    // Both of passage 1's sentences outscore passage 4's; with room for two sentences, each passage gives one.
    expect(answer.cited.sort()).toEqual([1, 4]);
    expect(citedSentences(answer.text)).toEqual([
      { sentence: expect.stringMatching(/^Employees/), n: 1 },
      { sentence: 'Vacation days are listed in the handbook.', n: 4 },
    ]);
  });

  it('by default cites every passage that answers, up to one sentence per passage given: five answering passages, five citations', async () => {
    // Each passage answers in part; the fifth one's sentence scores lowest, yet above the cutoff (four sentences dropped it).
    const passages = [
      passage(1, 'Backups are encrypted and backups are verified every night.'),
      passage(2, 'Encrypted backups are kept for thirty days.'),
      passage(3, 'Backups are verified by restoring them.'),
      passage(4, 'Old backups are encrypted too.'),
      passage(5, 'Verified backups are copied to a second site.'),
    ];
    const answer = await answerer.answer({ query: 'Are the backups encrypted and verified?', passages });
    expect([...answer.cited].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(citedSentences(answer.text)).toContainEqual({ sentence: 'Verified backups are copied to a second site.', n: 5 });
    // Fewer passages: at most four sentences, as before.
    const fewer = await answerer.answer({ query: 'Are the backups encrypted and verified?', passages: [passage(1, passages.map((p) => p.text).join(' '))] });
    expect(citedSentences(fewer.text)).toHaveLength(4);
  });

  it('cites the passage number it was given, not the passage position', async () => {
    const answer = await answerer.answer({
      query: 'Which port does the gateway listen on?',
      passages: [passage(7, 'Redis stores the job queue.'), passage(3, 'The gateway listens on port 8080 by default.')],
    });
    expect(citedSentences(answer.text)).toEqual([{ sentence: 'The gateway listens on port 8080 by default.', n: 3 }]);
    expect(answer.cited).toEqual([3]);
  });

  it('combines facts from several passages', async () => {
    const answer = await answerer.answer({
      query: 'Where is parking and the canteen?',
      passages: [passage(1, 'Free parking is behind building B. Visitors sign in.'), passage(2, 'Visitors sign in. The canteen is on floor 3.')],
    });
    const parts = citedSentences(answer.text);
    expect(parts).toHaveLength(2);
    expect(parts).toEqual(
      expect.arrayContaining([
        { sentence: 'Free parking is behind building B.', n: 1 },
        { sentence: 'The canteen is on floor 3.', n: 2 },
      ]),
    );
    expect(answer.cited).toEqual(parts.map((p) => p.n));
    expect(answer.text).not.toContain('Visitors');
  });

  it('orders sentences by relevance and cites passages in order of first use', async () => {
    const answer = await new ExtractiveAnswerer({ relativeCutoff: 0 }).answer({
      query: 'refund receipt',
      passages: [
        passage(1, 'Refunds are paid within five days. The shop closes at six.'),
        passage(2, 'The warehouse is in Leeds. A refund needs the original receipt.'),
      ],
    });
    const parts = citedSentences(answer.text);
    expect(parts.map((p) => p.sentence)).toContain('A refund needs the original receipt.');
    expect(parts.map((p) => p.sentence)).toContain('Refunds are paid within five days.');
    // The sentence matching both terms ranks first.
    expect(parts[0]).toEqual({ sentence: 'A refund needs the original receipt.', n: 2 });
    expect(answer.cited).toEqual([...new Set(parts.map((p) => p.n))]);
    expect(answer.cited).toEqual([2, 1]);
    // Even with no cutoff, sentences without any query term are never part of the answer.
    expect(parts).toHaveLength(2);
    expect(answer.text).not.toContain('Leeds');
    expect(answer.text).not.toContain('closes');
  });

  it('matches inflected forms of the question words', async () => {
    const answer = await answerer.answer({
      query: 'travel policy for contractors',
      passages: [passage(1, 'Our travel policies apply to every contractor. Meals are reimbursed.')],
    });
    expect(answer.text).toBe('Our travel policies apply to every contractor. [1]');
  });

  it('says it found nothing, without citations, when no passage shares a term with the question', async () => {
    const answer = await answerer.answer({
      query: 'quantum chromodynamics lecture',
      passages: [passage(1, 'Employees get 25 vacation days per year.'), passage(2, 'Parking is free for staff.')],
    });
    expect(answer.text).toBe(NO_ANSWER_TEXT);
    expect(answer.cited).toEqual([]);
  });

  it('says it found nothing when there are no passages', async () => {
    const answer = await answerer.answer({ query: 'vacation days', passages: [] });
    expect(answer.text).toBe(NO_ANSWER_TEXT);
    expect(answer.cited).toEqual([]);
  });

  it('says it found nothing for a question of stop words only, even if the passages contain them', async () => {
    const answer = await answerer.answer({
      query: 'What is it about?',
      passages: [passage(1, 'What is it about this topic that matters? It is about scale.')],
    });
    expect(answer.text).toBe(NO_ANSWER_TEXT);
    expect(answer.cited).toEqual([]);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('job cancelled'));
    await expect(
      answerer.answer({ query: 'vacation days', passages: [passage(1, 'Employees get 25 vacation days.')], signal: controller.signal }),
    ).rejects.toThrow('job cancelled');
  });

  it('answers normally with a live signal', async () => {
    const answer = await answerer.answer({
      query: 'vacation days',
      passages: [passage(1, 'Employees get 25 vacation days.')],
      signal: new AbortController().signal,
    });
    expect(answer.cited).toEqual([1]);
  });

  it('returns at most maxSentences sentences, the best ones', async () => {
    const text = [
      'Backups run nightly and backups are encrypted.',
      'Backups are kept for thirty days.',
      'Restoring backups takes an hour.',
      'Each backup is checked weekly.',
    ].join(' ');
    const one = await new ExtractiveAnswerer({ maxSentences: 1 }).answer({ query: 'backups', passages: [passage(1, text)] });
    expect(citedSentences(one.text)).toEqual([{ sentence: 'Backups run nightly and backups are encrypted.', n: 1 }]);

    const two = await new ExtractiveAnswerer({ maxSentences: 2, relativeCutoff: 0 }).answer({ query: 'backups', passages: [passage(1, text)] });
    expect(citedSentences(two.text)).toHaveLength(2);

    const all = await new ExtractiveAnswerer({ maxSentences: 10, relativeCutoff: 0 }).answer({ query: 'backups', passages: [passage(1, text)] });
    expect(citedSentences(all.text)).toHaveLength(4);
  });

  it('leaves out sentences scoring far below the best one (relative cutoff)', async () => {
    const passages = [
      passage(1, 'The incident review covers the database outage timeline. Lunch is served at noon in the canteen area.'),
      passage(2, 'A canteen exists.'),
    ];
    const strict = await new ExtractiveAnswerer({ relativeCutoff: 0.99 }).answer({ query: 'database outage incident review canteen', passages });
    expect(citedSentences(strict.text)).toEqual([{ sentence: 'The incident review covers the database outage timeline.', n: 1 }]);
    const loose = await new ExtractiveAnswerer({ relativeCutoff: 0 }).answer({ query: 'database outage incident review canteen', passages });
    expect(citedSentences(loose.text).length).toBeGreaterThan(1);
  });

  it('uses a sentence repeated in several passages once, citing the better-ranked passage', async () => {
    const repeated = 'Invoices are due within 30 days.';
    const answer = await new ExtractiveAnswerer({ maxSentences: 5, relativeCutoff: 0 }).answer({
      query: 'when are invoices due',
      passages: [passage(1, `${repeated} Late invoices incur a fee.`), passage(2, `${repeated} Pay by transfer.`), passage(3, repeated)],
    });
    const parts = citedSentences(answer.text);
    expect(parts.filter((p) => p.sentence === repeated)).toEqual([{ sentence: repeated, n: 1 }]);
    expect(answer.cited).not.toContain(3);
  });

  it('prefers the higher-ranked passage when two sentences score the same', async () => {
    const answer = await new ExtractiveAnswerer({ maxSentences: 1 }).answer({
      query: 'office opening hours',
      passages: [passage(1, 'Office opening hours are nine to five.'), passage(2, 'Office opening hours are eight to four.')],
    });
    expect(answer.text).toBe('Office opening hours are nine to five. [1]');
  });

  it('uses the heading to break ties between sentences that match the body equally', async () => {
    const answer = await new ExtractiveAnswerer({ maxSentences: 1 }).answer({
      query: 'parental leave duration',
      passages: [
        passage(1, 'The duration is twelve weeks in total.', { heading: 'Sick pay' }),
        passage(2, 'The duration is sixteen weeks in total.', { title: 'Handbook', heading: 'Parental leave' }),
      ],
    });
    expect(answer.text).toBe('The duration is sixteen weeks in total. [2]');
  });

  it('reports word counts as usage', async () => {
    const answer = await answerer.answer({ query: 'vacation days', passages: [passage(1, 'Employees get 25 vacation days.'), passage(2, 'Parking is free.')] });
    expect(answer.usage.prompt_tokens).toBe(2 + 5 + 3);
    expect(answer.text).toBe('Employees get 25 vacation days. [1]');
    expect(answer.usage.completion_tokens).toBe(6);
  });
});
