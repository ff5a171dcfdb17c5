import JSZip from 'jszip';
import { makeDocx } from './document-fixtures';

/**
 * Documents made to hurt a parser, for tests of the parse threads' budgets.
 * Each is small to upload and costly to read.
 */

/** Markdown on which marked's lexer is quadratic (` _a` repeated): 24 KB takes seconds. */
export function quadraticMarkdown(repeats = 20_000): Buffer {
  return Buffer.from(' _a'.repeat(repeats));
}

/** HTML with `depth` nested elements. */
export function deeplyNestedHtml(depth = 1_000_000): Buffer {
  return Buffer.from(`<html><body>${'<div>'.repeat(depth)}deep${'</div>'.repeat(depth)}</body></html>`);
}

/** A real DOCX with an extra part of `unpackedMb` MB of zeros: a few KB that unpack to many MB (a zip bomb). */
export async function zipBombDocx(unpackedMb: number): Promise<Buffer> {
  const zip = await JSZip.loadAsync(await makeDocx([{ heading: 'Bomb' }, { text: 'Innocent text.' }]));
  zip.file('word/media/zeros.bin', Buffer.alloc(unpackedMb * 1048576));
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 9 } });
}

/** A PDF whose page content holds `depth` nested arrays: pdf.js's parser recurses once per level. */
export function deeplyNestedPdf(depth = 500_000): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Nested ' + '['.repeat(depth) + ']'.repeat(depth) + ' >>',
  ];
  const content = 'BT /F1 12 Tf 72 720 Td (Hello) Tj ET';
  objects.push(`<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
  let pdf = '%PDF-1.7\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(pdf));
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(pdf);
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf);
}
