import { FairwayError } from '@fairway/errors';

/** Why a move was refused by the tenant's state rather than by the request's shape. */
export type MoveConflictReason = 'already-moving' | 'already-there' | 'target-not-empty';

/**
 * A move the tenant's current state does not allow: a move of it is already running (retriable:
 * once that one ends, a new move may start), it already is where the move would take it, or the
 * target already holds records of it (leftovers to remove first). A 409, not a 400: the request is
 * well formed; the tenant is in the way.
 */
export class TenantMoveConflictError extends FairwayError {
  readonly code = 'TENANT_MOVE_CONFLICT';
  readonly retriable: boolean;

  constructor(
    readonly tenantId: string,
    readonly reason: MoveConflictReason,
    message: string,
    /** The running move, for `already-moving`. */
    readonly moveId?: string,
  ) {
    super(message);
    this.retriable = reason === 'already-moving';
  }

  override details(): Record<string, unknown> {
    return { tenant: this.tenantId, reason: this.reason, ...(this.moveId === undefined ? {} : { moveId: this.moveId }) };
  }
}
