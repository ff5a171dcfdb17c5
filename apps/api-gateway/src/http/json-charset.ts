import type { RequestHandler } from 'express';
import { HttpError } from './http-error';

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;

/**
 * JSON is UTF-8 (RFC 8259). body-parser would also decode UTF-7 or UTF-16
 * bodies, which other tools read differently; anything but UTF-8 is a 415.
 */
export function utf8JsonOnly(): RequestHandler {
  return (req, _res, next) => {
    const charset = CHARSET.exec(req.get('content-type') ?? '')?.[1];
    if (charset !== undefined && charset.toLowerCase() !== 'utf-8' && charset.toLowerCase() !== 'utf8') {
      throw new HttpError(415, 'unsupported_charset', `charset "${charset.slice(0, 40)}" is not supported; send UTF-8 JSON (Content-Type: application/json)`);
    }
    next();
  };
}
