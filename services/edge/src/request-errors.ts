import type { NextFunction, Request, Response } from 'express';
import { FairwayError, HttpRequestError, ValidationError } from '@fairway/errors';

/**
 * The error a malformed request raised inside Express or body-parser, as a catalog error; undefined
 * when `err` is not one (the problem middleware then decides, and an unknown error stays a 500).
 *
 * - A path segment whose percent-encoding does not decode (`%`, `%C3%28`): the router's
 *   decodeURIComponent throws a URIError it marks `status: 400`.
 * - A body whose Content-Encoding it claims is not what it is (`gzip` that is not gzip): zlib's
 *   error, which body-parser passes on with `status: 400` but no `type`.
 * - A Content-Encoding or charset body-parser cannot decode at all: 415.
 */
export function malformedRequestError(err: unknown): FairwayError | undefined {
  if (err instanceof FairwayError || typeof err !== 'object' || err === null) return undefined;
  const { status, type, code } = err as { status?: unknown; type?: unknown; code?: unknown };
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  if (err instanceof URIError) {
    return new ValidationError('the path is not valid percent-encoded UTF-8', [{ path: '(path)', message: 'a %-escape that does not decode to UTF-8' }]);
  }
  if (status === 413 || type === 'entity.too.large') return new HttpRequestError('PAYLOAD_TOO_LARGE', 'the body is larger than the limit');
  if (status === 415 || type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new HttpRequestError('UNSUPPORTED_MEDIA_TYPE', 'send the body as UTF-8 JSON, with no Content-Encoding or with gzip, deflate or br');
  }
  // zlib's codes (Z_DATA_ERROR, Z_BUF_ERROR, ERR_BROTLI_...) and zlib-like errors without one.
  if (typeof code === 'string' && (code.startsWith('Z_') || code.includes('BROTLI'))) {
    return new HttpRequestError('MALFORMED_JSON', 'the body is not encoded as its Content-Encoding says; send it again');
  }
  if (type === 'entity.parse.failed') return new HttpRequestError('MALFORMED_JSON', 'the body is not valid JSON');
  return new HttpRequestError('MALFORMED_JSON', 'the body could not be read as sent; send it again');
}

/**
 * Error middleware in front of the problem middleware: the client's malformed requests become 4xx
 * catalog errors (see {@link malformedRequestError}); everything else passes on unchanged.
 */
export function classifyRequestErrors(err: unknown, _req: Request, _res: Response, next: NextFunction): void {
  next(malformedRequestError(err) ?? err);
}
