/** A citation marker: `[3]` or `[2, 3]`. */
const MARKER = /\[(\d+(?:\s*,\s*\d+)*)\]/g;
/** What may be the start of a marker at the end of a piece of text. */
const PARTIAL_MARKER = /\[[\d\s,]*$/;
/** Longer than any marker an answer writes: past it the held text goes out as it is. */
const MAX_HELD_CHARS = 64;

/**
 * Rewrites every marker whose numbers are all in `renumber`; numbers that are
 * not cited passages (a year in brackets, a passage never given) stay as written.
 */
export function renumberMarkers(text: string, renumber: ReadonlyMap<number, number>): string {
  return text.replace(MARKER, (marker, list: string) => {
    const numbers = list.split(',').map((n) => Number(n.trim()));
    if (!numbers.every((n) => renumber.has(n))) return marker;
    return `[${numbers.map((n) => renumber.get(n)).join(', ')}]`;
  });
}

/**
 * The streamed answer with the same markers as the final one: passages are
 * renumbered in order of first use as their markers go by (as the answer's
 * citations are), and a marker split over two pieces is held back until it
 * is whole, so a client reading tokens sees `[1]` where the stored answer
 * says `[1]`.
 */
export class StreamedMarkers {
  private held = '';
  private readonly renumber = new Map<number, number>();

  constructor(
    /** The passage numbers the answerer was given. */
    private readonly known: ReadonlySet<number>,
    private readonly emit: (text: string) => void,
  ) {}

  push(piece: string): void {
    const text = this.held + piece;
    const partial = PARTIAL_MARKER.exec(text);
    const cut = partial && text.length - partial.index <= MAX_HELD_CHARS ? partial.index : text.length;
    this.held = text.slice(cut);
    this.send(text.slice(0, cut));
  }

  /** Sends what is held (the answer ended). */
  end(): void {
    const rest = this.held;
    this.held = '';
    this.send(rest);
  }

  private send(text: string): void {
    if (!text) return;
    for (const match of text.matchAll(MARKER)) {
      for (const part of match[1].split(',')) {
        const n = Number(part.trim());
        if (this.known.has(n) && !this.renumber.has(n)) this.renumber.set(n, this.renumber.size + 1);
      }
    }
    this.emit(renumberMarkers(text, this.renumber));
  }
}
