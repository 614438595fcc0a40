import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '@fairway/telemetry';
import { problemMiddleware } from './problem-middleware';

/** The status, headers and body the middleware answered `err` with. */
function answer(err: unknown): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  const sent = { status: 0, headers: {} as Record<string, string>, body: {} as Record<string, unknown> };
  const res = {
    headersSent: false,
    set: (name: string, value: string) => ((sent.headers[name.toLowerCase()] = value), res),
    status: (status: number) => ((sent.status = status), res),
    type: () => res,
    json: (body: Record<string, unknown>) => ((sent.body = body), res),
  };
  const log = { error: () => undefined, info: () => undefined } as unknown as Logger;
  problemMiddleware(log)(err, { originalUrl: '/v1/jobs' } as Request, res as unknown as Response, (() => undefined) as NextFunction);
  return sent;
}

describe('problemMiddleware', () => {
  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ["pg-pool's connect deadline", new Error('timeout exceeded when trying to connect')],
    ['a server shutting down (admin_shutdown)', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['a server starting up (cannot_connect_now)', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
  ])('answers %s with 503 DATABASE_UNAVAILABLE and Retry-After, not 500', (_name, err) => {
    const { status, headers, body } = answer(err);
    expect(status).toBe(503);
    expect(body['code']).toBe('DATABASE_UNAVAILABLE');
    expect(Number(headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('still answers an unexpected error with 500', () => {
    expect(answer(new TypeError('x is undefined')).status).toBe(500);
  });
});
