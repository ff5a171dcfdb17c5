import { StreamedMarkers, renumberMarkers } from './citation-markers';

const stream = (known: number[], pieces: string[]) => {
  const out: string[] = [];
  const markers = new StreamedMarkers(new Set(known), (text) => out.push(text));
  for (const piece of pieces) markers.push(piece);
  markers.end();
  return out;
};

describe('renumberMarkers', () => {
  it('rewrites markers whose numbers are all renumbered and leaves the others as written', () => {
    const renumber = new Map([
      [3, 1],
      [2, 2],
    ]);
    expect(renumberMarkers('a [3] b [2, 3] c [2024] d [3, 9]', renumber)).toBe('a [1] b [2, 1] c [2024] d [3, 9]');
  });
});

describe('StreamedMarkers', () => {
  it('numbers passages in order of first use, as the final answer does', () => {
    const pieces = ['Beta fact. [3] Alpha', ' fact. [1] More beta. [3]'];
    expect(stream([1, 2, 3], pieces).join('')).toBe('Beta fact. [1] Alpha fact. [2] More beta. [1]');
  });

  it('holds a marker split over pieces until it is whole, and sends the rest at once', () => {
    const out = stream([1, 2, 3], ['First [', '3', ', 2', '] then', ' [2]']);
    expect(out).toEqual(['First ', '[1, 2] then', ' [2]']);
  });

  it('leaves numbers that are not passages alone, and sends a bracket that never closes at the end', () => {
    expect(stream([1, 2], ['In [2024] and [2', ', 9] see [1] and [']).join('')).toBe('In [2024] and [2, 9] see [2] and [');
  });

  it('gives up holding after a bracket too long to be a marker', () => {
    const long = `[${'1, '.repeat(40)}`;
    const out = stream([1], ['x ', long, 'y']);
    expect(out[out.length - 1]).toBe('y');
    expect(out.join('')).toBe(`x ${long}y`);
  });
});
