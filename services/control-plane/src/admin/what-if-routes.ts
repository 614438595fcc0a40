import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Router, type Request, type Response } from 'express';
import { parseDuration } from '@fairway/config';
import { ValidationError } from '@fairway/errors';
import { countUnfinishedJobs, readJobTrace, type JobTraceWindow } from '@fairway/job-store';
import { limitsOf, type QuotaLimits } from '@fairway/quota';
import {
  parseQuotaAssignments,
  parseQuotaChanges,
  readRecordedTrace,
  traceEndLine,
  traceJobLine,
  whatIfOnRecordedTrace,
  type QuotaChanges,
  type TraceEnd,
} from '@fairway/what-if';
import type { AdminDeps } from './deps';
import { parse } from './request';
import { whatIfOpenApiDocument } from './what-if-openapi';
import { traceWindowSchema, WHAT_IF_MAX_JOBS, whatIfBodySchema } from './what-if-schemas';

/** The largest trace a what-if request may send (a trace line is ~200 bytes). */
const WHAT_IF_MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Quota reads in flight at once while a trace's end line is written. */
const QUOTA_READS = 16;

/** The window `since`/`until` name, `now` being the request's time. */
function windowOf(query: { since: string; until?: string | undefined; tenant?: string[] | undefined }, now: Date): JobTraceWindow {
  const to = query.until === undefined ? now : new Date(query.until);
  let from: Date;
  try {
    from = new Date(to.getTime() - parseDuration(query.since));
  } catch {
    from = new Date(query.since);
    if (!query.since.includes('T') || Number.isNaN(from.getTime())) {
      throw new ValidationError(`since must be a duration back from until (1h, 30m) or an ISO 8601 instant (got '${query.since}')`, [
        { path: 'since', message: 'not a duration or an instant' },
      ]);
    }
  }
  if (!(from < to))
    throw new ValidationError(`since (${from.toISOString()}) must be before until (${to.toISOString()})`, [{ path: 'since', message: 'not before until' }]);
  return { from, to, tenants: query.tenant };
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T);
  });
  await Promise.all(lanes);
}

/**
 * The lines of a recorded trace of `window`: each finished job, then the end line with the
 * answering scheduler replica's tiers and every tenant's quota. The capacity is asked first, so a
 * scheduler that does not answer fails the request before any line is sent.
 */
async function* traceLines(deps: Pick<AdminDeps, 'ownerPool' | 'scheduler'>, window: JobTraceWindow): AsyncGenerator<string> {
  // Only the capacity is needed, which every answer carries: a page of one tenant, not the fleet
  // (at 50,000 tenants the whole listing is an 8.6 MB answer).
  const stats = await deps.scheduler.stats({ pageSize: 1 });
  const tiers: Record<string, { slots: number }> = {};
  for (const tier of stats.capacity?.tiers ?? []) if (tier.slots > 0) tiers[tier.name] = { slots: tier.slots };
  const tenants = new Set<string>();
  let jobs = 0;
  for await (const row of readJobTrace(deps.ownerPool, window)) {
    tenants.add(row.tenantId);
    jobs += 1;
    yield traceJobLine(row);
  }
  const quotas: Record<string, QuotaLimits> = {};
  await eachLimited([...tenants].sort(), QUOTA_READS, async (tenant) => {
    quotas[tenant] = limitsOf(await deps.scheduler.getQuota(tenant));
  });
  const end: Omit<TraceEnd, 'kind' | 'format'> = {
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    jobs,
    unfinished: await countUnfinishedJobs(deps.ownerPool, window),
    tiers,
    quotas: Object.fromEntries(Object.entries(quotas).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  yield traceEndLine(end);
}

/** Writes `lines` to `res` as JSON lines, waiting for the client whenever its buffer is full. */
async function streamLines(res: Response, lines: AsyncGenerator<string>, first: string): Promise<void> {
  res.status(200).type('application/x-ndjson');
  let line: string | undefined = first;
  while (line !== undefined) {
    if (res.destroyed) {
      // The client went away: stop reading (the generator's finally closes the cursor).
      await lines.return(undefined);
      return;
    }
    if (!res.write(`${line}\n`)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    const next = await lines.next();
    line = next.done ? undefined : next.value;
  }
  res.end();
}

/** The lines of a request body, its size bounded. */
async function* bodyLines(req: Request): AsyncGenerator<string> {
  let bytes = 0;
  for await (const line of createInterface({ input: req, crlfDelay: Infinity })) {
    bytes += line.length + 1;
    if (bytes > WHAT_IF_MAX_BODY_BYTES) throw new ValidationError(`the trace is larger than ${WHAT_IF_MAX_BODY_BYTES} bytes: simulate a shorter window`);
    yield line;
  }
}

/**
 * What-if on recorded traffic (issue #18 part 4): the recorded workload of a window of the jobs
 * table as a trace (`GET /trace`, JSON lines, streamed), and the fair core's simulator replaying
 * it with proposed quota changes beside the recorded waits and the fluid ideal (`POST /what-if`:
 * a window, or a trace as the body). Changes are checked by @fairway/quota, as `PUT
 * /tenants/{id}/quota` checks them. Read-only: nothing is audited, nothing changes.
 */
export function whatIfRoutes(deps: Pick<AdminDeps, 'ownerPool' | 'scheduler'>): Router {
  const routes = Router();
  const openapi = JSON.stringify(whatIfOpenApiDocument());
  routes.get('/what-if/openapi.json', (_req, res) => {
    res.type('application/json').send(openapi);
  });
  routes.get('/trace', async (req, res) => {
    const window = windowOf(parse(traceWindowSchema, req.query, 'the trace query'), new Date());
    const lines = traceLines(deps, window);
    // The first line (or the end line of an empty window) before the status: a failure up to here is a problem+json answer.
    const first = await lines.next();
    if (first.done) throw new Error('a trace always has an end line');
    try {
      await streamLines(res, lines, first.value);
    } catch (error) {
      // Too late for a problem answer: cut the stream, so the client sees no end line and refuses the trace.
      res.destroy(error as Error);
    }
  });

  routes.post('/what-if', async (req, res) => {
    let changes: QuotaChanges;
    let trace;
    let tiers;
    if (req.is('application/x-ndjson')) {
      const set = req.query['set'];
      changes = parseQuotaAssignments(typeof set === 'string' ? [set] : Array.isArray(set) ? set.map(String) : [], 'set');
      trace = await readRecordedTrace(bodyLines(req), 'body', WHAT_IF_MAX_JOBS);
    } else {
      const body = parse(whatIfBodySchema, req.body, 'the what-if');
      changes = parseQuotaChanges(body.changes);
      tiers = body.tiers;
      trace = await readRecordedTrace(traceLines(deps, windowOf(body, new Date())), 'the window', WHAT_IF_MAX_JOBS);
    }
    res.json(whatIfOnRecordedTrace(trace, changes, tiers));
  });
  return routes;
}
