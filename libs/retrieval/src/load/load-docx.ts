import JSZip from 'jszip';
import mammoth from 'mammoth';
import type { ParsedText } from './load-markdown';
import { parseHtml } from './load-html';
import { DEFAULT_DOCX_MAX_UNCOMPRESSED_BYTES, DocxTooLargeError, UnreadableDocxError } from './load-errors';

/**
 * DOCX → HTML with mammoth (Word's Heading 1-6 styles become h1-h6), then the
 * HTML loader, so sections keep their heading paths like any web page. The
 * archive is measured first by inflating it, not by trusting the sizes its
 * headers declare; images are never unpacked into the HTML.
 */
export async function parseDocx(bytes: Buffer, maxUncompressedBytes = DEFAULT_DOCX_MAX_UNCOMPRESSED_BYTES): Promise<ParsedText> {
  await refuseOversizedArchive(bytes, maxUncompressedBytes);
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: bytes }, { convertImage: mammoth.images.imgElement(async () => ({ src: '' })) })).value;
  } catch (error) {
    throw new UnreadableDocxError(error instanceof Error ? error.message : String(error));
  }
  return parseHtml(`<html><body>${html}</body></html>`);
}

/** Inflates every entry as a stream and stops as soon as the total passes the limit. */
async function refuseOversizedArchive(bytes: Buffer, limit: number): Promise<void> {
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(bytes);
  } catch (error) {
    throw new UnreadableDocxError(error instanceof Error ? error.message : String(error));
  }
  let total = 0;
  for (const entry of Object.values(zip.files)) {
    if (entry.dir) continue;
    await new Promise<void>((resolve, reject) => {
      const stream = entry.nodeStream('nodebuffer');
      stream
        .on('data', (chunk: Buffer) => {
          total += chunk.length;
          if (total <= limit) return;
          stream.pause();
          reject(new DocxTooLargeError(limit));
        })
        .on('error', (error: Error) => reject(new UnreadableDocxError(error.message)))
        .on('end', () => resolve());
    });
  }
}
