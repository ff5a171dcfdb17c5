import { parseText } from './load-text';

describe('parseText', () => {
  it('makes one block per blank-line separated paragraph, without headings or title', () => {
    expect(parseText('First paragraph.\n\nSecond paragraph.\n\n\n\nThird.')).toEqual({
      blocks: [
        { headings: [], text: 'First paragraph.' },
        { headings: [], text: 'Second paragraph.' },
        { headings: [], text: 'Third.' },
      ],
    });
  });

  it('treats lines holding only whitespace, and CRLF line ends, as paragraph breaks', () => {
    expect(parseText('One.\r\n\r\nTwo.\n  \t \nThree.').blocks.map((b) => b.text)).toEqual(['One.', 'Two.', 'Three.']);
  });

  it('keeps single line breaks inside a paragraph', () => {
    expect(parseText('Line one\nline two').blocks).toEqual([{ headings: [], text: 'Line one\nline two' }]);
  });

  it('collapses runs of spaces and tabs and trims each paragraph', () => {
    expect(parseText('   Too   many\t\tspaces.   ').blocks).toEqual([{ headings: [], text: 'Too many spaces.' }]);
  });

  it('returns no blocks for empty or blank text', () => {
    expect(parseText('').blocks).toEqual([]);
    expect(parseText(' \n\n \n').blocks).toEqual([]);
  });
});
