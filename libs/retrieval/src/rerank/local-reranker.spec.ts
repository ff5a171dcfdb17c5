import { loadConfig } from '@rag/config';
import { createReranker } from './create-reranker';
import { LocalReranker, lexicalScores, minDistance, queryTerms } from './local-reranker';
import type { RerankPassage } from './reranker';

/** Filler about the manual in general: it shares the query's common words, never its rare one. */
const filler = (i: number): RerankPassage => ({
  title: `Server configuration ${i}`,
  heading: 'Settings',
  text: `The server reads its configuration file at start. Each setting of the server has a default; change the configuration and restart the server. Part ${i}.`,
});

const order = async (query: string, passages: RerankPassage[], reranker = new LocalReranker()) =>
  (
    await reranker.rerank(
      query,
      passages.map((p) => p.text),
      { passages },
    )
  ).map((r) => r.index);

describe('LocalReranker (RERANKER=local)', () => {
  const hugePages = (heading: string): RerankPassage => ({
    title: 'Resource consumption',
    heading,
    text: 'To reduce page table overhead, enable huge pages for the shared memory of the server: set the configuration parameter to on.',
  });
  const query = 'How do I make the server configuration use huge pages?';

  it('scores a passage with the rare query word next to another query word above passages sharing only the common words', () => {
    // "server" and "configuration" are in every passage, "huge" in one: the pair "huge pages" decides.
    const passages = [filler(1), filler(2), hugePages('Memory'), filler(3), filler(4), filler(5), filler(6), filler(7)];
    const scores = lexicalScores(query, passages);
    for (const [i, score] of scores.entries()) if (i !== 2) expect(scores[2]).toBeGreaterThan(2 * score);
  });

  it('moves such a passage above the fused first when its heading names the rare words too, keeping the rest in fused order', async () => {
    const passages = [filler(1), hugePages('Huge pages'), filler(2), filler(3), filler(4), filler(5), filler(6), filler(7)];
    const ranked = await order(query, passages);
    expect(ranked).toEqual([1, 0, 2, 3, 4, 5, 6, 7]);
    // With the heading saying nothing, proximity alone does not overturn the fused first: the reranker adjusts.
    expect(await order(query, [filler(1), hugePages('Memory'), filler(2)])).toEqual([0, 1, 2]);
  });

  it('ranks a passage whose title and heading path hold the query terms above one that has them far apart in its text', async () => {
    const scattered: RerankPassage = {
      title: 'Release notes',
      heading: 'Changes',
      text: `Vacuum was made faster. ${'Many other changes were made in this release. '.repeat(8)} Autovacuum workers now log more.`,
    };
    const onTopic: RerankPassage = { title: 'Routine vacuuming', heading: 'The autovacuum daemon', text: 'It runs by itself when the table changes enough.' };
    const passages = [scattered, onTopic, filler(1), filler(2)];
    const [first] = await order('vacuum autovacuum', passages);
    expect(first).toBe(1);
    const scores = lexicalScores('vacuum autovacuum', passages);
    expect(scores[1]).toBeGreaterThan(scores[0]);
  });

  it('counts a phrase (adjacent terms) as closer than the same terms a sentence apart', () => {
    const adjacent: RerankPassage = { text: 'Use default privileges to grant access on tables created later.' };
    const apart: RerankPassage = { text: 'Privileges are granted per table. Each of them has a default owner, set when it is created.' };
    const [a, b] = lexicalScores('default privileges', [adjacent, apart, filler(1), filler(2)]);
    expect(a).toBeGreaterThan(b);
    expect(b).toBeGreaterThan(0);
  });

  it('does not count the last word of a title and the first of the text as adjacent', () => {
    const acrossFields: RerankPassage = { title: 'Backup', text: 'Restore instructions follow.' };
    const inText: RerankPassage = { title: 'Other', text: 'Backup restore instructions follow.' };
    const [across, inside] = lexicalScores('backup restore', [acrossFields, inText, filler(1)], { proximity: 1, fields: 0, prior: 0 });
    expect(inside).toBeGreaterThan(across);
  });

  it('keeps the fused order when no passage has any query term, and when the query is only stop words', async () => {
    const passages = [filler(1), filler(2), filler(3)];
    expect(await order('bcrypt hashes', passages)).toEqual([0, 1, 2]);
    expect(await order('how do I do it', passages)).toEqual([0, 1, 2]);
    expect(lexicalScores('how do I do it', passages)).toEqual([0, 0, 0]);
  });

  it('adjusts the fused order rather than replacing it: lexical evidence alone does not lift the 50th candidate over the 1st', async () => {
    // The 50th has the query terms in its heading; the 1st has them close together in its text.
    const first: RerankPassage = { text: 'Checksums protect data pages: enable data checksums at initdb.' };
    const last: RerankPassage = { title: 'Data checksums', heading: 'Data checksums', text: 'See initdb.' };
    const passages = [first, ...Array.from({ length: 48 }, (_, i) => filler(i)), last];
    const ranked = await order('data checksums', passages);
    expect(ranked[0]).toBe(0);
  });

  it('returns at most topN results, each with its score, best first', async () => {
    const passages = [filler(1), { text: 'huge pages' }, filler(2), filler(3)];
    const results = await new LocalReranker().rerank(
      'huge pages',
      passages.map((p) => p.text),
      { topN: 2, passages },
    );
    expect(results).toHaveLength(2);
    expect(results[0].index).toBe(1);
    expect(results[0].score).toBeGreaterThan(results[1].score);
  });

  it('reads plain documents as text when no passages are given', async () => {
    const ranked = await new LocalReranker().rerank('huge pages', ['The server starts.', 'Enable huge pages here.', 'The server restarts.']);
    expect(ranked[0].index).toBe(1);
  });

  it('throws when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(new LocalReranker().rerank('q', ['a'], { signal: controller.signal })).rejects.toThrow();
  });

  it('is what createReranker builds for RERANKER=local', () => {
    const reranker = createReranker(loadConfig({ RERANKER: 'local' }, process.cwd()));
    expect(reranker).toBeInstanceOf(LocalReranker);
    expect(reranker.id).toBe('local');
  });
});

describe('local reranker helpers', () => {
  it('minDistance finds the closest pair of positions in one pass', () => {
    expect(minDistance([1, 10, 30], [14, 28])).toBe(2);
    expect(minDistance([5], [5])).toBe(0);
    expect(minDistance([], [1])).toBe(Infinity);
  });

  it('queryTerms keeps distinct stems of the content words', () => {
    expect(queryTerms('How do I use huge pages and a huge page?')).toEqual(['use', 'huge', 'page']);
  });
});
