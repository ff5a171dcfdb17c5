import { parseHtml } from './load-html';

const page = (head: string, body: string) => `<!doctype html><html><head>${head}</head><body>${body}</body></html>`;

describe('parseHtml', () => {
  it('drops scripts, styles, navigation, header, footer, asides and forms', () => {
    const html = page(
      '<title>T</title><style>.x { color: red }</style><script>var secret = "script text";</script>',
      [
        '<nav><a href="/">Home nav link</a></nav>',
        '<header><p>Header banner</p></header>',
        '<p>Real content.</p>',
        '<script>console.log("inline script")</script>',
        '<aside><p>Sidebar text</p></aside>',
        '<form><p>Form label</p><button>Submit button</button></form>',
        '<noscript><p>Enable JS</p></noscript>',
        '<footer><p>Footer copyright</p></footer>',
      ].join(''),
    );
    const { blocks } = parseHtml(html);
    expect(blocks).toEqual([{ headings: [], text: 'Real content.' }]);
  });

  it('puts every block under its heading path', () => {
    const html = page(
      '',
      '<h1>Handbook</h1><p>Welcome.</p><h2>Leave</h2><p>Leave text.</p><h3>Parental</h3><p>Parental text.</p><h2>Expenses</h2><p>Expenses text.</p>',
    );
    expect(parseHtml(html).blocks).toEqual([
      { headings: ['Handbook'], text: 'Welcome.' },
      { headings: ['Handbook', 'Leave'], text: 'Leave text.' },
      { headings: ['Handbook', 'Leave', 'Parental'], text: 'Parental text.' },
      { headings: ['Handbook', 'Expenses'], text: 'Expenses text.' },
    ]);
  });

  it('skips missing heading levels in the path', () => {
    expect(parseHtml(page('', '<h1>Top</h1><h4>Deep</h4><p>x y</p>')).blocks).toEqual([{ headings: ['Top', 'Deep'], text: 'x y' }]);
  });

  it('takes the title from <title>, whitespace collapsed', () => {
    expect(parseHtml(page('<title>\n  Expense   Policy \n</title>', '<h1>Something else</h1><p>x</p>')).title).toBe('Expense Policy');
  });

  it('falls back to the first h1 for the title', () => {
    expect(parseHtml(page('', '<h2>Intro</h2><p>a</p><h1>First H1</h1><p>b</p><h1>Second H1</h1>')).title).toBe('First H1');
  });

  it('has no title without <title> or h1', () => {
    expect(parseHtml(page('', '<h2>Section</h2><p>a</p>')).title).toBeUndefined();
  });

  it('reads a list item holding a paragraph once', () => {
    const html = page('', '<ul><li><p>Item with paragraph.</p></li><li>Plain item.</li><li>Outer <ul><li>nested</li></ul></li></ul>');
    const texts = parseHtml(html).blocks.map((b) => b.text);
    expect(texts).toEqual(['Item with paragraph.', 'Plain item.', 'Outer nested']);
  });

  it('reads only <main> when the page has one', () => {
    const html = page('<title>T</title>', '<div><p>Cookie banner.</p></div><main><h1>Docs</h1><p>Main text.</p></main><div><p>Related links.</p></div>');
    expect(parseHtml(html).blocks).toEqual([{ headings: ['Docs'], text: 'Main text.' }]);
  });

  it('collapses whitespace in text but keeps <pre> line breaks', () => {
    const html = page('', '<p>Some\n   wrapped\ttext.</p><pre>line one\n  indented line</pre>');
    expect(parseHtml(html).blocks).toEqual([
      { headings: [], text: 'Some wrapped text.' },
      { headings: [], text: 'line one\n  indented line' },
    ]);
  });

  it('reads text of inline elements, entities decoded', () => {
    expect(parseHtml(page('', '<p>Press <kbd>Ctrl</kbd> &amp; <a href="#">click</a> &lt;here&gt;.</p>')).blocks).toEqual([
      { headings: [], text: 'Press Ctrl & click <here>.' },
    ]);
  });

  it('reads table cells, definition lists and block quotes', () => {
    const html = page('', '<table><tr><th>Port</th><td>8080</td></tr></table><dl><dt>TTL</dt><dd>One hour.</dd></dl><blockquote>Quoted.</blockquote>');
    expect(parseHtml(html).blocks.map((b) => b.text)).toEqual(['Port', '8080', 'TTL', 'One hour.', 'Quoted.']);
  });

  it('skips empty blocks and empty headings', () => {
    expect(parseHtml(page('', '<h1>A</h1><h2>  </h2><p> </p><p>Text.</p>')).blocks).toEqual([{ headings: ['A'], text: 'Text.' }]);
  });
});

describe('parseHtml article headers', () => {
  it('keeps the header of an article (its title) while dropping the site header', () => {
    const parsed = parseHtml(
      '<html><body><header><p>Site banner</p></header><main><article><header><h1>Release notes</h1></header>' +
        '<p>Version 2 ships on Friday.</p></article></main></body></html>',
    );
    expect(parsed.title).toBe('Release notes');
    expect(parsed.blocks).toEqual([{ headings: ['Release notes'], text: 'Version 2 ships on Friday.' }]);
  });
});
