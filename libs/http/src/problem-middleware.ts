import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { serverUnreachable } from '@fairway/db';
import { DatabaseUnavailableError, FairwayError, HttpRequestError, toFairwayError, toProblem } from '@fairway/errors';
import type { Logger } from '@fairway/telemetry';

/** Maps body-parser's errors to catalog errors; everything else passes through. */
function fromBodyParser(err: unknown): unknown {
  const type = (err as { type?: string }).type;
  if (type === 'entity.parse.failed') return new HttpRequestError('MALFORMED_JSON', 'the body is not valid JSON');
  if (type === 'entity.too.large') return new HttpRequestError('PAYLOAD_TOO_LARGE', 'the body is larger than the limit');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new HttpRequestError('UNSUPPORTED_MEDIA_TYPE', 'the body must be UTF-8 JSON');
  }
  // Any other client-side failure to read the body (aborted, length mismatch) is the client's.
  const status = (err as { status?: unknown }).status;
  if (typeof type === 'string' && typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpRequestError('MALFORMED_JSON', 'the body could not be read as sent; send it again');
  }
  return err;
}

/**
 * A PostgreSQL server that cannot be reached, restarts or refuses connections (a connect timeout,
 * ECONNREFUSED, admin_shutdown, cannot_connect_now) is a 503 DATABASE_UNAVAILABLE the client may retry, not a 500: found
 * by the chaos suite (#18), where a PostgreSQL restart answered tenant lookups with 500.
 */
function fromDatabase(err: unknown): unknown {
  if (err instanceof FairwayError || !serverUnreachable(err)) return err;
  return new DatabaseUnavailableError('the database cannot be reached right now; nothing was done, retry later', 2, { cause: err });
}

/** The one place an HTTP error becomes an RFC 9457 problem+json response. */
export function problemMiddleware(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const error = toFairwayError(fromDatabase(fromBodyParser(err)));
    const problem = toProblem(error, req.originalUrl.split('?')[0]);
    if (problem.status >= 500) log.error({ err, code: error.code }, 'request failed');
    else log.info({ code: error.code, status: problem.status, detail: problem.detail }, 'request refused');
    // Every retriable refusal that knows when to come back says so (429s and 503s).
    const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (typeof retryAfter === 'number') res.set('Retry-After', String(retryAfter));
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(problem.status).type('application/problem+json').json(problem);
  };
}

/**
 * Whether the request declares a JSON body: the usual exact Content-Type without parsing it, any
 * other through type-is (parameters, case). Shared by requireJson and the JSON parser.
 */
export function isJsonRequest(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  // Mounted in Express only, so the request is always Express's (with is()).
  return type === 'application/json' || type === 'application/json; charset=utf-8' || (req as Request).is('application/json') === 'application/json';
}

/** 415 for a body that is not JSON, before the parser sees it. */
export function requireJson(req: Request, _res: Response, next: NextFunction): void {
  const hasBody = req.headers['content-length'] !== '0' && (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined);
  if (hasBody && !isJsonRequest(req)) {
    next(new HttpRequestError('UNSUPPORTED_MEDIA_TYPE', "send the body as JSON with 'Content-Type: application/json'"));
    return;
  }
  next();
}
