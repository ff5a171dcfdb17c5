/**
 * `tsx tools/eval/src/copy-corpus.ts <corpus> <folder>`: copies the corpus's
 * pages (corpora.json's include/exclude) into <folder> with their relative
 * paths, ready for `rag-ingest <folder>`; prints `{"corpus", "folder",
 * "documents"}`. Exit 1 when the corpus is unknown or not installed.
 */
import { existsSync } from 'node:fs';
import { copyCorpus, corpusFolder, installHint, loadCorpora } from './corpora';

const [name, dest] = process.argv.slice(2);
const corpus = loadCorpora().find((c) => c.name === name);
if (!corpus || !dest) {
  process.stderr.write(
    `usage: copy-corpus <${loadCorpora()
      .map((c) => c.name)
      .join('|')}> <folder>\n`,
  );
  process.exit(1);
}
if (!existsSync(corpusFolder(corpus))) {
  process.stderr.write(`${corpus.name}: ${corpusFolder(corpus)} is absent; ${installHint(corpus)}\n`);
  process.exit(1);
}
const ids = copyCorpus(corpus, dest);
process.stdout.write(`${JSON.stringify({ corpus: corpus.name, folder: dest, documents: ids.length })}\n`);
