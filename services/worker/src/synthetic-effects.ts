import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { escapeLiteral, type Pool, type QueryResult } from 'pg';
import { GroupCommit } from '@fairway/db';
import { recordSyntheticEffect, type AttemptOutcome, type SyntheticEffect, type SyntheticEffectWriter } from './executor';

interface EffectRow {
  effect_job_id: string;
  effect_attempt: number;
  /** The stored effect as JSON text: passed on to the scheduler as is, parsed only if asked. */
  effect_json: string;
  effect_applied: boolean;
  job_completed: boolean;
}

type Settled = { ok: true; outcome: AttemptOutcome } | { ok: false; error: unknown };

const key = (jobId: string, attempt: number) => `${jobId.toLowerCase()}:${attempt}`;

/**
 * Group commit for synthetic jobs' effects: the effects of every job that finished in one turn
 * (and while the previous write was in flight) are written in ONE transaction sent as ONE round
 * trip (a lone effect too: five round trips of a transaction per job were most of a no-op job's
 * latency), each tenant's rows through `fairway_record_synthetic_effects` (migration 601), which
 * sets the tenant for row-level security and is planned once per connection.
 *
 * Each job's effect stays atomic and once per job id: the whole batch commits or none of it does,
 * the job id is the primary key, and an attempt whose effect an earlier attempt wrote gets that
 * effect back (`applied` false). The same statement records each job's success (its result,
 * `finished_at`), fenced exactly as the scheduler's completion is (`attempts` = this attempt, still
 * `running`): the effect and the completion commit together, and a job's path has one commit fewer.
 *
 * If the batch fails (a tenant deleted meanwhile, say), every job is written again in a transaction
 * of its own, so one bad job fails alone.
 */
export class SyntheticEffects implements SyntheticEffectWriter {
  private readonly batches: GroupCommit<SyntheticEffect, Settled>;

  constructor(
    private readonly pool: Pool,
    options: { maxBatch?: number } = {},
  ) {
    this.batches = new GroupCommit((effects) => this.write(effects), { maxBatch: options.maxBatch ?? 500 });
  }

  async record(effect: SyntheticEffect): Promise<AttemptOutcome> {
    const settled = await this.batches.add(effect);
    if (settled.ok) return settled.outcome;
    throw settled.error;
  }

  /** Resolves once every effect taken is written. */
  idle(): Promise<void> {
    return this.batches.idle();
  }

  private async write(effects: SyntheticEffect[]): Promise<Settled[]> {
    let rows: Map<string, EffectRow>;
    try {
      // A lone job's write stays in its trace; a write shared by many jobs belongs to none of them.
      rows = await (effects.length === 1 ? this.writeBatch(effects) : context.with(ROOT_CONTEXT, () => this.writeBatch(effects)));
    } catch {
      return Promise.all(effects.map((effect) => this.alone(effect)));
    }
    return Promise.all(
      effects.map((effect): Settled | Promise<Settled> => {
        const row = rows.get(key(effect.jobId, effect.attempt));
        // Neither written nor found: another attempt of the job in this batch wrote it, or one
        // committed after the statement's snapshot. Ask again on its own.
        if (!row) return this.alone(effect);
        const resultJson = row.effect_json;
        return {
          ok: true,
          outcome: {
            applied: row.effect_applied,
            completed: row.job_completed,
            resultJson,
            get result(): Record<string, unknown> {
              return JSON.parse(resultJson) as Record<string, unknown>;
            },
          },
        };
      }),
    );
  }

  private alone(effect: SyntheticEffect): Promise<Settled> {
    return recordSyntheticEffect(this.pool, effect).then(
      (outcome): Settled => ({ ok: true, outcome }),
      (error: unknown): Settled => ({ ok: false, error }),
    );
  }

  /**
   * One simple-protocol query (no parameters, so every statement goes in one round trip): BEGIN,
   * one function call per tenant, COMMIT. Values are escaped with pg's escapeLiteral
   * (standard_conforming_strings is on in every supported PostgreSQL).
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
      const json = JSON.stringify(list.map((e) => ({ jobId: e.jobId, attempt: e.attempt, observed: e.observed })));
      statements.push(`SELECT * FROM fairway_record_synthetic_effects(${escapeLiteral(tenantId)}, ${escapeLiteral(json)}::jsonb)`);
    }
    statements.push('COMMIT');
    const client = await this.pool.connect();
    try {
      const results = (await client.query(statements.join(';\n'))) as unknown as QueryResult<EffectRow>[];
      const rows = new Map<string, EffectRow>();
      for (const result of results) {
        if (result.command !== 'SELECT') continue;
        for (const row of result.rows) rows.set(key(row.effect_job_id, row.effect_attempt), row);
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
