import { PermanentError } from '@rag/core';
import { isSupported, type SourceFile } from '@rag/retrieval';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface Discovery {
  files: SourceFile[];
  /** Files inside folders that are not a supported format. */
  skipped: string[];
  /** Explicitly named files of an unsupported format. */
  unsupported: string[];
}

/** A path given to the CLI that does not exist: retrying cannot help. */
export class PathNotFoundError extends PermanentError {
  constructor(readonly target: string) {
    super(`${target}: no such file or folder`, { code: 'path_not_found' });
  }
}

/**
 * Expands paths into source files. A file inside a folder gets the id of its
 * path relative to that folder, so ids stay the same wherever the CLI runs;
 * a file named directly gets its base name.
 */
export async function discoverFiles(targets: string[]): Promise<Discovery> {
  const out: Discovery = { files: [], skipped: [], unsupported: [] };
  const seen = new Set<string>();
  for (const target of targets) {
    const stat = await fs.stat(target).catch(() => undefined);
    if (!stat) throw new PathNotFoundError(target);
    if (stat.isDirectory()) {
      for (const file of await walk(target)) {
        const id = path.relative(target, file).split(path.sep).join('/');
        if (!isSupported(file)) out.skipped.push(file);
        else add(out, seen, id, file);
      }
    } else if (isSupported(target)) {
      add(out, seen, path.basename(target), target);
    } else {
      out.unsupported.push(target);
    }
  }
  return out;
}

function add(out: Discovery, seen: Set<string>, id: string, file: string): void {
  if (seen.has(id)) return;
  seen.add(id);
  out.files.push({ id, read: () => fs.readFile(file) });
}

async function walk(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(full)));
    else if (entry.isFile()) files.push(full);
  }
  return files;
}
