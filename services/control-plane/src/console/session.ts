import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { decodeJwt } from 'jose';
import { CsrfTokenInvalidError } from '@fairway/errors';
import { checkOperator } from '../admin/operator-auth';
import type { AdminDeps } from '../admin/deps';
import '../admin/request';

/** The console's session cookie: the operator's own token, so sign-in is the admin API's authentication and nothing else. */
export const SESSION_COOKIE = 'fairway_console';

/** Where the console lives on its port; the cookie is sent to nothing else. */
export const CONSOLE_PATH = '/console';

/** The longest a session lasts, even when the token lives longer. */
const MAX_SESSION_MS = 12 * 3600_000;

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The session's CSRF token: an HMAC of the session's token. Only a page the console served knows
 * it (the cookie is HttpOnly and SameSite=Strict), any replica computes it without shared state,
 * and it changes with every sign-in.
 */
export function csrfToken(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('fairway-console-csrf-v1').digest('base64url');
}

/** Whether `presented` is the CSRF token of `sessionToken` (constant time). */
export function csrfMatches(sessionToken: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfToken(sessionToken));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Whether a state-changing request comes from the console's own pages: a browser's Origin (or,
 * without it, Sec-Fetch-Site) must not name another site. A client that sends neither is not a
 * browser acting for someone else; it still needs the CSRF token.
 */
export function sameOrigin(req: Pick<Request, 'headers'>): boolean {
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') {
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }
  if (origin === 'null') return false;
  const site = req.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The console session's token (its cookie), once verified. */
    consoleToken?: string;
  }
}

/** Sets the session cookie for a verified operator token: HttpOnly, SameSite=Strict, Secure in production, never past the token's exp. */
export function startSession(res: Response, token: string, secure: boolean, now = Date.now()): void {
  const exp = decodeJwt(token).exp;
  const maxAge = Math.max(0, Math.min(MAX_SESSION_MS, exp === undefined ? MAX_SESSION_MS : exp * 1000 - now));
  res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure, path: CONSOLE_PATH, maxAge });
}

/** Clears the session cookie. */
export function endSession(res: Response, secure: boolean): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure, path: CONSOLE_PATH });
}

/**
 * The console's authentication: the session cookie holds an operator token, checked on every
 * request by the admin API's own {@link checkOperator} (verifier, cache and all). Without a valid
 * one a page redirects to sign-in; a live fragment (htmx) gets the refusal (401), shown in its place.
 */
export function requireConsoleOperator(deps: Pick<AdminDeps, 'tokens' | 'log' | 'onRefusal'>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const token = cookieValue(req.headers.cookie, SESSION_COOKIE);
    void checkOperator(deps.tokens, token).then((check) => {
      if ('error' in check) {
        if (token !== undefined) {
          deps.log.info({ reason: check.reason, path: req.path }, 'console session refused');
          deps.onRefusal?.(`console-${check.reason}`);
        }
        // A page (typed, linked or boosted by htmx) goes to sign-in; a live fragment gets the refusal.
        if ((req.method === 'GET' || req.method === 'HEAD') && (req.headers['hx-request'] === undefined || req.headers['hx-boosted'] !== undefined)) {
          res.redirect(303, `${CONSOLE_PATH}/sign-in`);
          return;
        }
        next(check.error);
        return;
      }
      req.operator = check.operator;
      req.consoleToken = token;
      next();
    });
  };
}

/** Refuses a state-changing request that is not from the console's own pages (Origin) or lacks the session's CSRF token. */
export function requireCsrf(req: Request, _res: Response, next: NextFunction): void {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const presented = body['_csrf'] ?? req.headers['x-csrf-token'];
  if (!sameOrigin(req) || req.consoleToken === undefined || !csrfMatches(req.consoleToken, presented)) {
    next(new CsrfTokenInvalidError('this form did not come from your console session (CSRF token missing or wrong): reload the page and try again'));
    return;
  }
  next();
}
