// The parsers that load large libraries (cheerio, pdf.js, mammoth), in one module that
// loadDocument imports on first use; a parse thread hands them over at start (useParsers).
export { parseDocx } from './load-docx';
export { parseHtml } from './load-html';
export { parsePdf } from './load-pdf';
