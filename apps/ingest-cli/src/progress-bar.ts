import { Presets, SingleBar } from 'cli-progress';

/**
 * The load's progress bar on `stream` (stderr): documents done of the total,
 * chunks, failures, rate and time left. Without a terminal it prints a line
 * every 2 s instead of redrawing.
 */
export function documentsBar(stream: NodeJS.WriteStream): SingleBar {
  return new SingleBar(
    {
      stream,
      format: 'ingesting {bar} {value}/{total} documents | {chunks} chunks | {failed} failed | {rate} docs/s | eta {eta_formatted}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    Presets.shades_classic,
  );
}

/** `rag-ingest eval`'s progress bar on `stream` (stderr): questions asked of the total (every mode's and the answers'), the current target. */
export function evalBar(stream: NodeJS.WriteStream): SingleBar {
  return new SingleBar(
    {
      stream,
      format: 'evaluating {bar} {value}/{total} questions | {target} | eta {eta_formatted}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    Presets.shades_classic,
  );
}
