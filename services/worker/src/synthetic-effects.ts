import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { Pool } from 'pg';
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

const WRITE_TURN = 'SELECT * FROM fairway_record_synthetic_effects_of_turn($1::jsonb)';

const key = (jobId: string, attempt: number) => `${jobId.toLowerCase()}:${attempt}`;

/**
 * Group commit for synthetic jobs' effects: the effects of every job that finished in one turn
 * (and while the previous write was in flight) are written by ONE statement, one round trip and
 * one transaction (a lone effect too: five round trips of a transaction per job were most of a
 * no-op job's latency): `fairway_record_synthetic_effects_of_turn` (migration 801) sets each row's
 * tenant for row-level security before it touches the row, and is planned once per connection.
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
   * One statement, so one implicit transaction: the effects grouped by tenant (the function sets
   * app.tenant_id when the tenant changes), as a named prepared statement parsed once per connection.
   */
  private async writeBatch(effects: SyntheticEffect[]): Promise<Map<string, EffectRow>> {
    const byTenant = new Map<string, SyntheticEffect[]>();
    for (const effect of effects) {
      const list = byTenant.get(effect.tenantId);
      if (list) list.push(effect);
      else byTenant.set(effect.tenantId, [effect]);
    }
    const turn: Array<{ tenantId: string; jobId: string; attempt: number; observed: SyntheticEffect['observed'] }> = [];
    for (const [tenantId, list] of byTenant) for (const e of list) turn.push({ tenantId, jobId: e.jobId, attempt: e.attempt, observed: e.observed });
    const { rows } = await this.pool.query<EffectRow>({ name: 'fairway-synthetic-effects-of-turn', text: WRITE_TURN, values: [JSON.stringify(turn)] });
    const written = new Map<string, EffectRow>();
    for (const row of rows) written.set(key(row.effect_job_id, row.effect_attempt), row);
    return written;
  }
}
