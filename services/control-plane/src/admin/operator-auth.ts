import type { NextFunction, Request, Response } from 'express';
import { FairwayError, ForbiddenError, UnauthenticatedError } from '@fairway/errors';
import type { AdminDeps } from './deps';
import './request';

/** The outcome of checking one operator credential: who acts, or why (a metric label) and the error to answer with. */
export type OperatorCheck = { operator: string } | { reason: 'no-credential' | 'not-operator' | 'bad-token'; error: FairwayError };

/**
 * Operators authenticate with a JWT of the operators' issuer and audience (OPERATOR_JWT_*), whose
 * `role` is "operator" and which has NO tenant_id. A tenant's token fails verification here (another
 * audience, and another key), and an API key is not a bearer token at all: neither can act on the
 * fleet. The admin API (bearer header) and the console (its session cookie) both ask this one check.
 */
export async function checkOperator(tokens: AdminDeps['tokens'], token: string | undefined): Promise<OperatorCheck> {
  if (!token || !/^[A-Za-z0-9._~+/=-]{1,8192}$/.test(token)) {
    return { reason: 'no-credential', error: new UnauthenticatedError('send an operator token: Authorization: Bearer <jwt> (npm run -s token -- --operator)') };
  }
  try {
    const claims = await tokens.verify(token);
    if (claims.role !== 'operator' || claims.tenantId !== undefined) {
      return { reason: 'not-operator', error: new ForbiddenError('the admin API needs an operator token (role "operator", no tenant_id)') };
    }
    return { operator: claims.subject ?? 'operator' };
  } catch (err: unknown) {
    return { reason: 'bad-token', error: err instanceof FairwayError ? err : new UnauthenticatedError('the token is not valid') };
  }
}

/** The admin API's authentication: `Authorization: Bearer <operator jwt>`, checked by {@link checkOperator}. */
export function requireOperator(deps: Pick<AdminDeps, 'tokens' | 'log' | 'onRefusal'>) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    void checkOperator(deps.tokens, bearer).then((check) => {
      if ('error' in check) {
        deps.log.info({ reason: check.reason, path: req.path }, 'admin request refused');
        deps.onRefusal?.(check.reason);
        next(check.error);
        return;
      }
      req.operator = check.operator;
      next();
    });
  };
}
