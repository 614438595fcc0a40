import { FairSchedulerError } from '../errors';
import type { TenantQuota, TierConfig } from '../types';

/** One job of a simulation trace (one line of TRACE.jsonl, normalised). */
export interface TraceJob {
  readonly id: string;
  /** Arrival time, ms. */
  readonly t: number;
  readonly tenant: string;
  readonly jobClass: string;
  /** Real service time, ms: how long the job holds its slot. */
  readonly cost: number;
  /** What the scheduler is told at enqueue; defaults to `cost`. */
  readonly estimate: number;
  readonly priority: number;
}

/** A simulation's capacity and quotas (CONFIG.json, normalised). */
export interface SimulationConfig {
  /** Tier name -> tier; a single `default` tier when the config gave a plain slot count. */
  readonly tiers: Readonly<Record<string, TierConfig>>;
  readonly tenants: Readonly<Record<string, Partial<TenantQuota>>>;
  readonly defaults: Partial<TenantQuota>;
}

function bad(message: string): FairSchedulerError {
  return new FairSchedulerError('INVALID_CONFIG', message);
}

/**
 * Parses a JSONL trace. Accepts `class` or `jobClass` (default `default`), `estimate` (default
 * `cost`) and `priority` (default 0). Throws `INVALID_CONFIG` naming the line on a bad record.
 */
export function parseTrace(text: string, source = 'trace'): TraceJob[] {
  const jobs: TraceJob[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] as string).trim();
    if (line === '') continue;
    const where = `${source}:${index + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (error) {
      throw bad(`${where}: not JSON (${(error as Error).message})`);
    }
    jobs.push(toTraceJob(raw, where));
  }
  return jobs;
}

/** Validates one trace record (already parsed from JSON). */
export function toTraceJob(raw: unknown, where = 'job'): TraceJob {
  if (typeof raw !== 'object' || raw === null) throw bad(`${where}: expected an object`);
  const record = raw as Record<string, unknown>;
  const { id, t, tenant, cost } = record;
  const jobClass = record['class'] ?? record['jobClass'] ?? 'default';
  const estimate = record['estimate'] ?? cost;
  const priority = record['priority'] ?? 0;
  if (typeof id !== 'string' || id === '') throw bad(`${where}: "id" must be a non-empty string`);
  if (typeof tenant !== 'string' || tenant === '') throw bad(`${where}: "tenant" must be a non-empty string`);
  if (typeof jobClass !== 'string') throw bad(`${where}: "class" must be a string`);
  for (const [name, value] of [
    ['t', t],
    ['cost', cost],
    ['estimate', estimate],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw bad(`${where}: "${name}" must be a finite number >= 0 (got ${JSON.stringify(value)})`);
    }
  }
  if (typeof priority !== 'number' || !Number.isFinite(priority)) throw bad(`${where}: "priority" must be a number`);
  return { id, t: t as number, tenant, jobClass, cost: cost as number, estimate: estimate as number, priority };
}

/**
 * Parses CONFIG.json: `{"slots": 8 | {"interactive": 2, "standard": {"slots": 4, "lendTo": ["interactive"]}},
 * "tenants": {"acme": {...quota}}, "defaults": {...quota}}`.
 */
export function parseSimulationConfig(raw: unknown): SimulationConfig {
  if (typeof raw !== 'object' || raw === null) throw bad('config: expected a JSON object');
  const record = raw as Record<string, unknown>;
  const slots = record['slots'];
  let tiers: Record<string, TierConfig>;
  if (typeof slots === 'number') {
    tiers = { default: { slots } };
  } else if (typeof slots === 'object' && slots !== null) {
    tiers = {};
    for (const [name, tier] of Object.entries(slots)) {
      if (typeof tier === 'number') tiers[name] = { slots: tier };
      else if (typeof tier === 'object' && tier !== null) tiers[name] = tier as TierConfig;
      else throw bad(`config: slots.${name} must be a number or {"slots": n, "lendTo": [...]}`);
    }
  } else {
    throw bad('config: "slots" must be a number or an object of tiers');
  }
  const tenants = record['tenants'] ?? {};
  const defaults = record['defaults'] ?? {};
  if (typeof tenants !== 'object' || tenants === null) throw bad('config: "tenants" must be an object');
  if (typeof defaults !== 'object' || defaults === null) throw bad('config: "defaults" must be an object');
  return {
    tiers,
    tenants: tenants as Record<string, Partial<TenantQuota>>,
    defaults: defaults as Partial<TenantQuota>,
  };
}

/** Quota of `tenant` under `config`: its own entry over the defaults over weight 1. */
export function quotaOf(config: SimulationConfig, tenant: string): Partial<TenantQuota> {
  return { ...config.defaults, ...config.tenants[tenant] };
}
