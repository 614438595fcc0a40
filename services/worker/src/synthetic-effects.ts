import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { escapeLiteral, type Pool, type QueryResult } from 'pg';
import { GroupCommit } from '@fairway/db';
import { recordSyntheticEffect, type AttemptOutcome, type SyntheticEffect, type SyntheticEffectWriter } from './executor';

interface EffectRow {
  job_id: string;
  /** The stored effect as JSON text: passed on to the scheduler as is, parsed only if asked. */
  observed: string;
  applied: boolean;
  completed: boolean;
}

/**
 * Group commit for synthetic jobs' effects: the effects of every job that finished in one turn
 * (and while the previous write was in flight) are written in ONE transaction sent as ONE round
 * trip (a lone effect too: five round trips of a transaction per job were most of a no-op job's
 * latency), each tenant's rows under its own `SET LOCAL app.tenant_id`, so row-level security checks
 * every row against its own tenant exactly as a transaction per job would.
 *
 * Each job's effect stays atomic and once per job id: the whole batch commits or none of it does,
 * the job id is the primary key (`ON CONFLICT DO NOTHING`), and a row an earlier attempt wrote is
 * returned instead. The same statement records each job's success (its result, `finished_at`),
 * fenced exactly as the scheduler's completion is (`attempts` = this attempt, still `running`): the
 * effect and the completion commit together, and a job's path has one commit fewer. If the batch fails (a tenant deleted meanwhile, say), every job is written again
 * in a transaction of its own, so one bad job never fails the others.
 */
export class SyntheticEffects implements SyntheticEffectWriter {
  private readonly batches: GroupCommit<SyntheticEffect, AttemptOutcome>;

  constructor(
    private readonly pool: Pool,
    options: { maxBatch?: number } = {},
  ) {
    this.batches = new GroupCommit((effects) => this.write(effects), { maxBatch: options.maxBatch ?? 500 });
  }

  record(effect: SyntheticEffect): Promise<AttemptOutcome> {
    return this.batches.add(effect);
  }

  /** Resolves once every effect taken is written. */
  idle(): Promise<void> {
    return this.batches.idle();
  }

  private async write(effects: SyntheticEffect[]): Promise<AttemptOutcome[]> {
    let rows: Map<string, EffectRow>;
    try {
      // A lone job's write stays in its trace; a write shared by many jobs belongs to none of them.
      rows = await (effects.length === 1 ? this.writeBatch(effects) : context.with(ROOT_CONTEXT, () => this.writeBatch(effects)));
    } catch {
      return Promise.all(effects.map((effect) => recordSyntheticEffect(this.pool, effect)));
    }
    return Promise.all(
      effects.map((effect) => {
        const row = rows.get(effect.jobId);
        // Neither written nor found: another attempt committed it while this batch ran, after the
        // statement's snapshot. Ask again on its own.
        if (!row) return recordSyntheticEffect(this.pool, effect);
        const resultJson = row.observed;
        return {
          applied: row.applied,
          completed: row.completed,
          resultJson,
          get result(): Record<string, unknown> {
            return JSON.parse(resultJson) as Record<string, unknown>;
          },
        };
      }),
    );
  }

  /**
   * One simple-protocol query (no parameters, so every statement goes in one round trip): BEGIN,
   * then per tenant its setting and one INSERT whose CTE returns the rows written (applied) and the
   * rows earlier attempts wrote (not applied), then COMMIT. Values are escaped with pg's
   * escapeLiteral (standard_conforming_strings is on in every supported PostgreSQL).
   */
  private async writeBatch(effects: SyntheticEffect[]): Promise<Map<string, EffectRow>> {
    const byTenant = new Map<string, SyntheticEffect[]>();
    for (const effect of effects) {
      const list = byTenant.get(effect.tenantId);
      if (list) list.push(effect);
      else byTenant.set(effect.tenantId, [effect]);
    }
    const statements = ['BEGIN'];
    for (const [tenantId, list] of byTenant) {
      const tenant = escapeLiteral(tenantId);
      const values = list.map((e) => `(${escapeLiteral(e.jobId)}::uuid, ${Math.trunc(e.attempt)}, ${escapeLiteral(JSON.stringify(e.observed))}::jsonb)`).join(',');
      statements.push(
        `SELECT set_config('app.tenant_id', ${tenant}, true)`,
        `WITH v (job_id, attempt, observed) AS (VALUES ${values}),
         ins AS (
           INSERT INTO job_effects (job_id, tenant_id, attempt, observed)
           SELECT v.job_id, ${tenant}, v.attempt, v.observed || jsonb_build_object('dbSessionTenant', current_setting('app.tenant_id', true))
           FROM v ON CONFLICT (job_id) DO NOTHING
           RETURNING job_id, observed),
         outcome AS (
           SELECT job_id, observed, true AS applied FROM ins
           UNION ALL
           SELECT e.job_id, e.observed, false AS applied FROM job_effects e JOIN v ON v.job_id = e.job_id),
         done AS (
           UPDATE jobs j SET state = 'succeeded', result = o.observed, finished_at = now(), lease_expires_at = NULL, last_error = NULL
           FROM outcome o JOIN v ON v.job_id = o.job_id
           WHERE j.id = o.job_id AND j.attempts = v.attempt AND j.state = 'running'
           RETURNING j.id)
         SELECT o.job_id, o.observed::text AS observed, o.applied, d.id IS NOT NULL AS completed FROM outcome o LEFT JOIN done d ON d.id = o.job_id`,
      );
    }
    statements.push('COMMIT');
    const client = await this.pool.connect();
    try {
      const results = (await client.query(statements.join(';\n'))) as unknown as QueryResult<EffectRow>[];
      const rows = new Map<string, EffectRow>();
      for (const result of results) {
        if (result.command !== 'SELECT' || !result.fields.some((f) => f.name === 'applied')) continue;
        // `applied` rows come first: an effect this batch wrote is not also reported as found.
        for (const row of result.rows) if (!rows.has(row.job_id)) rows.set(row.job_id, row);
      }
      return rows;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
