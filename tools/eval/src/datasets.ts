import { readFileSync } from 'node:fs';
import { isDocumentId } from './corpora';

/** One line of an evaluation set: a question as a user would ask it and the pages that answer it. */
export interface EvalQuestion {
  id: string;
  question: string;
  /** Document ids (paths relative to the corpus folder) of every page that answers the question. */
  gold: string[];
  note?: string;
}

export interface ParsedDataset {
  questions: EvalQuestion[];
  /** One message per problem, naming the line (1-based) or the question id. */
  errors: string[];
}

const KEYS = new Set(['id', 'question', 'gold', 'note']);
const ID = /^[a-z][a-z0-9]*-\d{3}$/;

/**
 * Parses and checks a JSON Lines evaluation set: every non-empty line is one
 * object `{ id, question, gold, note? }`; ids are `<prefix>-NNN`, unique and
 * share one prefix; questions are non-empty and distinct (ignoring case and
 * spacing); gold is a non-empty list of distinct document ids that follow the
 * ingest CLI's id rule.
 */
export function parseDataset(text: string): ParsedDataset {
  const questions: EvalQuestion[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      errors.push(`${where}: not JSON (${(err as Error).message})`);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      errors.push(`${where}: not a JSON object`);
      return;
    }
    const o = value as Record<string, unknown>;
    const unknownKeys = Object.keys(o).filter((k) => !KEYS.has(k));
    if (unknownKeys.length > 0) errors.push(`${where}: unknown field(s) ${unknownKeys.join(', ')}; allowed: id, question, gold, note`);
    if (typeof o.id !== 'string' || !ID.test(o.id)) errors.push(`${where}: id must look like "pg-001", got ${JSON.stringify(o.id)}`);
    if (typeof o.question !== 'string' || o.question.trim() === '') errors.push(`${where}: question must be a non-empty string`);
    if (!Array.isArray(o.gold) || o.gold.length === 0 || !o.gold.every((g) => typeof g === 'string')) {
      errors.push(`${where}: gold must be a non-empty array of document ids`);
    } else {
      const bad = o.gold.filter((g) => !isDocumentId(g as string));
      if (bad.length > 0)
        errors.push(
          `${where}: gold id(s) ${bad.map((b) => JSON.stringify(b)).join(', ')} are not document ids (a path relative to the corpus folder, with / separators, of a format the ingest loads)`,
        );
      if (new Set(o.gold).size !== o.gold.length) errors.push(`${where}: gold lists a document twice`);
    }
    if (o.note !== undefined && (typeof o.note !== 'string' || o.note.trim() === '')) errors.push(`${where}: note, when present, must be a non-empty string`);
    if (typeof o.id === 'string' && typeof o.question === 'string' && Array.isArray(o.gold)) questions.push(o as unknown as EvalQuestion);
  });

  const seenIds = new Map<string, number>();
  const seenQuestions = new Map<string, string>();
  for (const q of questions) {
    seenIds.set(q.id, (seenIds.get(q.id) ?? 0) + 1);
    const normalized = q.question.toLowerCase().replace(/\s+/g, ' ').trim();
    const earlier = seenQuestions.get(normalized);
    if (earlier !== undefined) errors.push(`${q.id}: same question as ${earlier}`);
    else seenQuestions.set(normalized, q.id);
  }
  for (const [id, count] of seenIds) if (count > 1) errors.push(`${id}: id used ${count} times`);
  const prefixes = new Set(questions.map((q) => q.id.split('-')[0]));
  if (prefixes.size > 1) errors.push(`ids mix prefixes ${[...prefixes].join(', ')}; one set uses one prefix`);
  return { questions, errors };
}

export function readDataset(file: string): ParsedDataset {
  return parseDataset(readFileSync(file, 'utf8'));
}
