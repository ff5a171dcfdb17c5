import { isSupported } from '@rag/retrieval';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

/** The repository root (tools/eval/src → ../../..). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
/** tools/eval: corpora.json and datasets/ live here. */
export const EVAL_ROOT = path.resolve(__dirname, '..');

export type CorpusRole = 'ci' | 'benchmark';

/** One entry of tools/eval/corpora.json. */
export interface Corpus {
  name: string;
  /** The JSON Lines evaluation set, relative to tools/eval. */
  dataset: string;
  /** `ci`: small, run by CI; `benchmark`: large, for docs/benchmarks.md. */
  role: CorpusRole;
  /** The Debian package that installs the corpus (null: it ships in this repository). */
  package: string | null;
  testedVersion?: string;
  licence: string;
  /** The folder to ingest; absolute, or relative to the repository root. */
  folder: string;
  /** Globs over document ids (`**`, `*`, `?`, `{a,b}`); a page is in the corpus when it matches one include and no exclude. */
  include: string[];
  exclude: string[];
  /** How many documents the corpus has (ids listed by listDocumentIds) in the tested version. */
  documents: number;
  why: string;
  ids: string;
}

export function loadCorpora(file = path.join(EVAL_ROOT, 'corpora.json')): Corpus[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { corpora: Corpus[] };
  return parsed.corpora;
}

export function corpusFolder(corpus: Corpus): string {
  return path.resolve(REPO_ROOT, corpus.folder);
}

export function datasetFile(corpus: Corpus): string {
  return path.resolve(EVAL_ROOT, corpus.dataset);
}

/**
 * A glob over `/`-separated paths as a RegExp: `**\/` is any number of
 * folders (none included), `*` and `?` never cross a `/`, `{a,b}` are literal
 * alternatives. Nothing else is special.
 */
export function globToRegExp(glob: string): RegExp {
  const literal = (s: string) => s.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      if (glob[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '{' && glob.indexOf('}', i) > i) {
      const end = glob.indexOf('}', i);
      re += `(?:${glob
        .slice(i + 1, end)
        .split(',')
        .map(literal)
        .join('|')})`;
      i = end;
    } else {
      re += literal(c);
    }
  }
  return new RegExp(`^${re}$`);
}

/** Whether a document id is part of the corpus by its include/exclude globs. */
export function inCorpus(corpus: Corpus, id: string): boolean {
  const matches = (globs: string[]) => globs.some((g) => globToRegExp(g).test(id));
  return matches(corpus.include) && !matches(corpus.exclude);
}

/**
 * The rule the ingest CLI follows for a folder (apps/ingest-cli discover-files):
 * a document's id is its path relative to the folder, with `/` separators. So an
 * id is relative, has no empty, `.` or `..` segment and no backslash, and names a
 * format the CLI loads.
 */
export function isDocumentId(id: string): boolean {
  if (id.length === 0 || id.includes('\\') || id.startsWith('/')) return false;
  if (id.split('/').some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.'))) return false;
  return isSupported(id);
}

/**
 * The ids the ingest CLI gives the corpus's documents when it loads
 * `corpusFolder(corpus)`, restricted to include/exclude; sorted. Walks the
 * folder as the CLI does: hidden entries and node_modules are skipped, and so
 * are symbolic links (the CLI loads regular files only).
 */
export function listDocumentIds(corpus: Corpus): string[] {
  const root = corpusFolder(corpus);
  if (!existsSync(root)) throw new Error(`${corpus.name}: ${root} does not exist; ${installHint(corpus)}`);
  const ids: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const id = prefix + entry.name;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), `${id}/`);
      else if (entry.isFile() && isSupported(entry.name) && inCorpus(corpus, id)) ids.push(id);
    }
  };
  walk(root, '');
  return ids.sort();
}

/**
 * Copies the corpus's documents (listDocumentIds) into `dest`, keeping their
 * relative paths, so that ingesting `dest` gives exactly the corpus's ids and
 * no excluded page. Returns the ids copied.
 */
export function copyCorpus(corpus: Corpus, dest: string): string[] {
  const ids = listDocumentIds(corpus);
  for (const id of ids) {
    mkdirSync(path.dirname(path.join(dest, id)), { recursive: true });
    copyFileSync(path.join(corpusFolder(corpus), id), path.join(dest, id));
  }
  return ids;
}

export function installHint(corpus: Corpus): string {
  return corpus.package ? `install it with \`apt-get install -y ${corpus.package}\`` : 'it ships in this repository';
}
