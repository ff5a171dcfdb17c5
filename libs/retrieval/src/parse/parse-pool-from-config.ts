import type { Config } from '@rag/config';
import { ParsePool, type ParsePoolOptions } from './parse-pool';

type ParseSettings = Pick<Config, 'INGEST_PARSE_THREADS' | 'INGEST_PARSE_TIMEOUT_MS' | 'INGEST_PARSE_MAX_MB' | 'INGEST_DOCX_MAX_UNCOMPRESSED_MB'>;

/** The parse threads as configured (INGEST_PARSE_*, INGEST_DOCX_MAX_UNCOMPRESSED_MB). */
export function parsePoolFromConfig(config: ParseSettings, onParserError?: ParsePoolOptions['onParserError']): ParsePool {
  return new ParsePool({
    threads: config.INGEST_PARSE_THREADS,
    timeoutMs: config.INGEST_PARSE_TIMEOUT_MS,
    maxHeapMb: config.INGEST_PARSE_MAX_MB,
    docxMaxUncompressedMb: config.INGEST_DOCX_MAX_UNCOMPRESSED_MB,
    onParserError,
  });
}
