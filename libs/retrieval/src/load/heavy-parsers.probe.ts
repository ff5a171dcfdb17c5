// Run as a child process by heavy-parsers.int.spec.ts: which parser libraries a process has
// loaded after importing the library, and after parsing one file of the format named in argv;
// and whether Qdrant's client is loaded after importing the library.
// The whole library, as an app imports it.
import '../index';
import { chunkDocument } from '../chunk/chunk-document';
import { loadDocument } from './load-document';

const HEAVY = /node_modules\/(pdf-parse|pdfjs-dist|mammoth|cheerio|jszip|gpt-tokenizer)\//;
const loaded = () =>
  [
    ...new Set(
      Object.keys(require.cache)
        .filter((k) => HEAVY.test(k))
        .map((k) => (k.split('node_modules/').pop() ?? k).split('/')[0]),
    ),
  ].sort();

/** Qdrant's client brings its own undici: only a process that uses Qdrant should load it. */
const qdrantClient = () => Object.keys(require.cache).some((k) => k.includes('node_modules/@qdrant/js-client-rest/'));

async function main(): Promise<void> {
  const atImport = loaded();
  const qdrantAtImport = qdrantClient();
  const doc = await loadDocument('page.html', Buffer.from('<html><body><h1>Title</h1><p>Body.</p></body></html>'));
  const afterHtml = loaded();
  chunkDocument(doc, { size: 100, overlap: 0, unit: 'tokens' });
  process.stdout.write(JSON.stringify({ atImport, afterHtml, afterChunking: loaded(), qdrantAtImport }));
}

void main();
