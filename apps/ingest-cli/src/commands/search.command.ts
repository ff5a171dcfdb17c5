import type { Config } from '@rag/config';
import { SearchRequestDto, describeIssues, validatePlain, type SearchMode, type SearchResultItem } from '@rag/queue-contracts';
import { CollectionNotFoundError, EmbedderMismatchError, createEmbedder, searchCollection } from '@rag/retrieval';
import type { Output } from './ingest.command';
import { openVersionedStore } from './versioned-store';

export interface SearchCommandOptions {
  collection: string;
  tenant: string;
  topK: number;
  mode: SearchMode;
  json?: boolean;
}

/** Characters of a chunk shown in the plain listing. */
const SNIPPET_CHARS = 100;

const tenantFlag = (tenant: string) => (tenant === 'default' ? '' : ` --tenant ${tenant}`);

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS - 1)}…` : flat;
}

function ranksOf(ranks: SearchResultItem['ranks']): string {
  const parts = [ranks.vector ? `vector ${ranks.vector}` : '', ranks.text ? `text ${ranks.text}` : ''].filter(Boolean);
  return parts.join(', ');
}

/** One line per result: rank, score, document id, heading, each retriever's rank, the start of the chunk. */
export function searchLine(result: SearchResultItem, rank: number): string {
  const page = result.page ? ` p.${result.page}` : '';
  return [rank, result.score.toFixed(4), `${result.doc_id}${page}`, result.heading || result.title || '-', ranksOf(result.ranks), snippet(result.chunk)].join(
    '\t',
  );
}

/**
 * Searches one of the tenant's collections as `POST /v1/collections/:name/search`
 * does (the same use case, straight on the vector store) and prints the ranked
 * chunks, or the API's JSON with --json. Bad input: 2; an unknown collection or
 * another embedder: 1, saying what to do.
 */
export async function searchCommand(config: Config, query: string, options: SearchCommandOptions, io: Output): Promise<number> {
  const checked = validatePlain(SearchRequestDto, { query, top_k: options.topK, mode: options.mode });
  if (!checked.ok) {
    io.err(`error: ${describeIssues(checked.issues)}`);
    return 2;
  }
  const store = await openVersionedStore(config);
  try {
    const embedder = createEmbedder(config);
    const answer = await store.readPinned(options.tenant, options.collection, (pinned) =>
      searchCollection({ store: pinned, embedder }, { tenant: options.tenant, collection: options.collection, query, topK: options.topK, mode: options.mode }),
    );
    if (options.json) io.out(JSON.stringify(answer));
    else io.out(answer.results.length ? answer.results.map((r, i) => searchLine(r, i + 1)).join('\n') : '(no results)');
    return 0;
  } catch (error) {
    if (error instanceof CollectionNotFoundError) {
      io.err(`error: collection "${options.collection}" does not exist; run "rag-ingest list${tenantFlag(options.tenant)}" to see the collections`);
      return 1;
    }
    if (error instanceof EmbedderMismatchError) {
      io.err(`error: ${error.message}; or search with --mode text, which needs no embeddings`);
      return 1;
    }
    throw error;
  } finally {
    await store.close();
  }
}
