import type { NextFunction, Request, Response } from 'express';
import { FairwayError, ForbiddenError, UnauthenticatedError } from '@fairway/errors';
import type { AdminDeps } from './deps';
import './request';

/**
 * Operators authenticate with a JWT of the operators' issuer and audience (OPERATOR_JWT_*), whose
 * `role` is "operator" and which has NO tenant_id. A tenant's token fails verification here (another
 * audience, and another key), and an API key is not a bearer token at all: neither can act on the fleet.
 */
export function requireOperator(deps: Pick<AdminDeps, 'tokens' | 'log' | 'onRefusal'>) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const refuse = (reason: string, err: FairwayError): void => {
      deps.log.info({ reason, path: req.path }, 'admin request refused');
      deps.onRefusal?.(reason);
      next(err);
    };
    const match = /^Bearer ([A-Za-z0-9._~+/=-]{1,8192})$/.exec(req.headers.authorization ?? '');
    if (!match?.[1]) {
      refuse('no-credential', new UnauthenticatedError('send an operator token: Authorization: Bearer <jwt> (npm run -s token -- --operator)'));
      return;
    }
    deps.tokens.verify(match[1]).then(
      (claims) => {
        if (claims.role !== 'operator' || claims.tenantId !== undefined) {
          refuse('not-operator', new ForbiddenError('the admin API needs an operator token (role "operator", no tenant_id)'));
          return;
        }
        req.operator = claims.subject ?? 'operator';
        next();
      },
      (err: unknown) => refuse('bad-token', err instanceof FairwayError ? err : new UnauthenticatedError('the token is not valid')),
    );
  };
}
