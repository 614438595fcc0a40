import { Router, type Request } from 'express';
import { z } from 'zod';
import { parseDuration } from '@fairway/config';
import { NotFoundError, ValidationError } from '@fairway/errors';
import { listMoves, readMove, requestMoveRollback, startTenantMove, type MoveSweeper, type TenantMoveDeps } from '@fairway/tenant-move';
import type { AdminDeps } from './deps';
import { actorOf, parse, tenantParam } from './request';

/** What the moves routes are wired to (AdminDeps.moves). */
export interface AdminMoves {
  deps: TenantMoveDeps;
  /** Runs the moves this replica starts (and resumes those whose runner died). */
  sweeper: Pick<MoveSweeper, 'run'>;
  /** The old copy is kept this long after a verified switch unless the request says otherwise (TENANT_MOVE_GRACE). */
  graceMs: number;
  /** The shortest grace a request may ask for (production: at least the routers' route TTL). */
  minGraceMs: number;
}

const moveBody = z
  .object({
    to: z.enum(['pooled', 'schema', 'database']),
    dbServer: z.string().min(1).max(63).optional(),
    /** A duration such as '10m'. */
    grace: z.string().min(1).max(20).optional(),
  })
  .strict();

/**
 * Live moves of a tenant between isolation models (issue #20 part 2; libs/tenant-move):
 *
 * - `POST /tenants/:id/moves {to, dbServer?, grace?}`: records the move (audited) and runs it on
 *   this replica in the background; 202 with the move and its status resource in Location;
 * - `GET /tenants/:id/moves`: the tenant's moves, newest first;
 * - `GET /tenants/:id/moves/:moveId`: one move's state, phase, progress and measurements;
 * - `POST /tenants/:id/moves/:moveId/rollback`: during the grace period, back to the old copy with
 *   every write made since the switch (audited); 202, run on this replica.
 */
export function movesRoutes(deps: Pick<AdminDeps, 'catalog' | 'moves'>): Router {
  const routes = Router();
  const moves = () => {
    if (!deps.moves) throw new NotFoundError('tenant moves on this control plane', 'moves');
    return deps.moves;
  };

  routes.post('/tenants/:id/moves', async (req, res) => {
    const id = tenantParam(req);
    const admin = moves();
    const body = parse(moveBody, req.body, 'the move');
    await deps.catalog.get(id);
    let graceMs = admin.graceMs;
    if (body.grace !== undefined) {
      try {
        graceMs = parseDuration(body.grace);
      } catch (err) {
        throw new ValidationError(`grace: ${(err as Error).message}`, [{ path: 'grace', message: 'not a duration' }]);
      }
      if (graceMs < admin.minGraceMs) {
        throw new ValidationError(`grace must be at least ${admin.minGraceMs} ms here (got ${graceMs} ms): a router may keep the old route that long`, [
          { path: 'grace', message: 'too short' },
        ]);
      }
    }
    const who = actorOf(req);
    const { move, runId } = await startTenantMove(admin.deps, id, {
      to: body.to,
      ...(body.dbServer === undefined ? {} : { dbServer: body.dbServer }),
      graceMs,
      actor: who.actor,
      ...(who.reason === undefined ? {} : { reason: who.reason }),
    });
    admin.sweeper.run(move.id, runId);
    res.status(202).location(`/admin/v1/tenants/${id}/moves/${move.id}`).json(move);
  });

  routes.get('/tenants/:id/moves', async (req, res) => {
    const id = tenantParam(req);
    res.json({ moves: await listMoves(moves().deps.ownerPool, id) });
  });

  const moveParam = (req: Request): string => {
    const moveId = String(req.params['moveId']);
    if (!/^[0-9a-f-]{36}$/.test(moveId)) throw new NotFoundError('tenant move', moveId.slice(0, 64));
    return moveId;
  };

  routes.post('/tenants/:id/moves/:moveId/rollback', async (req, res) => {
    const id = tenantParam(req);
    const moveId = moveParam(req);
    const admin = moves();
    const { move, runId } = await requestMoveRollback(admin.deps.ownerPool, id, moveId, actorOf(req));
    admin.sweeper.run(move.id, runId);
    res.status(202).location(`/admin/v1/tenants/${id}/moves/${move.id}`).json(move);
  });

  routes.get('/tenants/:id/moves/:moveId', async (req, res) => {
    const id = tenantParam(req);
    const moveId = moveParam(req);
    const move = await readMove(moves().deps.ownerPool, id, moveId);
    if (!move) throw new NotFoundError('tenant move', moveId);
    res.json(move);
  });
  return routes;
}
