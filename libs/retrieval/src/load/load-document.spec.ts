import { createHash } from 'node:crypto';
import { SUPPORTED_EXTENSIONS, UnsupportedFormatError, contentHash, isSupported, loadDocument } from './load-document';

const utf8 = (text: string) => Buffer.from(text, 'utf8');

describe('loadDocument', () => {
  it('parses Markdown by extension, case-insensitively', async () => {
    for (const id of ['guide.md', 'docs/guide.markdown', 'GUIDE.MD']) {
      const doc = await loadDocument(id, utf8('# Guide\n\n## Setup\n\n- **one**\n- two'));
      expect(doc.title).toBe('Guide');
      expect(doc.blocks).toEqual([{ headings: ['Guide', 'Setup'], text: '- one\n- two' }]);
    }
  });

  it('parses HTML by extension', async () => {
    for (const id of ['page.html', 'page.htm', 'PAGE.HTML']) {
      const doc = await loadDocument(id, utf8('<html><head><title>Page</title></head><body><nav>menu</nav><h2>Part</h2><p>Body text.</p></body></html>'));
      expect(doc.title).toBe('Page');
      expect(doc.blocks).toEqual([{ headings: ['Part'], text: 'Body text.' }]);
    }
  });

  it('parses plain text by extension, and does not read Markdown syntax in it', async () => {
    for (const id of ['notes.txt', 'notes.text']) {
      const doc = await loadDocument(id, utf8('# not a heading\n\n**kept** as is'));
      expect(doc.blocks).toEqual([
        { headings: [], text: '# not a heading' },
        { headings: [], text: '**kept** as is' },
      ]);
    }
  });

  it('uses the id as source and derives the title from the file name when the content has none', async () => {
    const doc = await loadDocument('policies/travel_expense-policy.txt', utf8('Book economy class.'));
    expect(doc.id).toBe('policies/travel_expense-policy.txt');
    expect(doc.source).toBe('policies/travel_expense-policy.txt');
    expect(doc.title).toBe('travel expense policy');
  });

  it('falls back to the file name when the parsed title is blank', async () => {
    expect((await loadDocument('on-call.md', utf8('---\ntitle: "  "\n---\nText.'))).title).toBe('on call');
  });

  it('rejects an unsupported extension with UnsupportedFormatError naming the file and the supported types', async () => {
    let error: unknown;
    try {
      await loadDocument('report.odt', utf8('PK'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedFormatError);
    expect((error as UnsupportedFormatError).source).toBe('report.odt');
    expect((error as Error).name).toBe('UnsupportedFormatError');
    expect((error as Error).message).toContain('report.odt');
    for (const ext of SUPPORTED_EXTENSIONS) expect((error as Error).message).toContain(ext);
  });

  it('rejects files without an extension', async () => {
    await expect(loadDocument('Makefile', utf8('all:'))).rejects.toThrow(UnsupportedFormatError);
    await expect(loadDocument('notes.md.bak', utf8('x'))).rejects.toThrow(UnsupportedFormatError);
  });

  it('strips a UTF-8 byte order mark before parsing, so a leading heading or front matter still counts', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const withHeading = await loadDocument('a.md', Buffer.concat([bom, utf8('# Real Title\n\nText.')]));
    expect(withHeading.title).toBe('Real Title');
    expect(withHeading.blocks).toEqual([{ headings: ['Real Title'], text: 'Text.' }]);

    const withFrontMatter = await loadDocument('b.md', Buffer.concat([bom, utf8('---\ntitle: Front\n---\nBody.')]));
    expect(withFrontMatter.title).toBe('Front');
    expect(withFrontMatter.blocks.map((b) => b.text)).toEqual(['Body.']);

    const text = await loadDocument('c.txt', Buffer.concat([bom, utf8('Hello.')]));
    expect(text.blocks[0].text).toBe('Hello.');
  });

  it('hashes the raw bytes with sha256: stable for the same bytes, different for any change', async () => {
    const bytes = utf8('# Title\n\nSome text.');
    const first = await loadDocument('a.md', bytes);
    expect(first.contentHash).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect((await loadDocument('a.md', Buffer.from(bytes))).contentHash).toBe(first.contentHash);
    // Same bytes under another id: same hash, the hash is about content only.
    expect((await loadDocument('elsewhere/b.md', bytes)).contentHash).toBe(first.contentHash);
    expect((await loadDocument('a.md', utf8('# Title\n\nSome text!'))).contentHash).not.toBe(first.contentHash);
    // The BOM is part of the bytes, so adding one counts as a change.
    expect((await loadDocument('a.md', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]))).contentHash).not.toBe(first.contentHash);
  });
});

describe('contentHash', () => {
  it('hashes strings and buffers of the same UTF-8 bytes alike', () => {
    expect(contentHash('héllo')).toBe(contentHash(utf8('héllo')));
    expect(contentHash('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(contentHash('a')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('isSupported', () => {
  it('accepts the parsable extensions in any case and nothing else', () => {
    expect(SUPPORTED_EXTENSIONS).toEqual(expect.arrayContaining(['.md', '.markdown', '.txt', '.text', '.html', '.htm', '.pdf', '.docx']));
    for (const f of ['a.md', 'b.MARKDOWN', 'c.txt', 'd.Text', 'e.html', 'dir.v2/f.HTM', 'g.pdf', 'h.DOCX']) expect(isSupported(f)).toBe(true);
    for (const f of ['a.doc', 'b.odt', 'c', '.md', 'dir.md/file', 'x.mdx', 'y.pdf.bak']) expect(isSupported(f)).toBe(false);
  });
});
