import { runSimulation } from '@fairway/fair-scheduler/simulation/discrete-event';
import { FairwayPolicy } from '@fairway/fair-scheduler/simulation/fairway-policy';
import { QUOTA_DEFAULTS } from '@fairway/quota';
import { parseQuotaAssignments } from './quota-changes';
import { estimateDispatchOverhead, whatIfOnRecordedTrace } from './recorded-what-if';
import type { RecordedTrace, RecordedTraceJob } from './trace-format';

/**
 * A trace "recorded" by the simulator itself on 4 slots: acme and globex each send 60 jobs of
 * 100 ms at once, small sends one every 500 ms. Its waits are exactly what a replay gives.
 */
function recordedTrace(): RecordedTrace {
  const jobs: Array<Omit<RecordedTraceJob, 'wait'>> = [];
  const job = (id: string, t: number, tenant: string): Omit<RecordedTraceJob, 'wait'> => ({
    id,
    t,
    tenant,
    class: 'standard',
    cost: 100,
    priority: 0,
    attempts: 1,
    state: 'succeeded',
  });
  for (let i = 0; i < 60; i++) jobs.push(job(`acme-${i}`, 0, 'acme'), job(`globex-${i}`, 0, 'globex'));
  for (let i = 0; i < 6; i++) jobs.push(job(`small-${i}`, 500 * i + 1, 'small'));
  const tiers = { standard: { slots: 4 } };
  const policy = new FairwayPolicy({ tiers, tenants: {}, defaults: {} });
  const { schedule } = runSimulation(
    jobs.map((j) => ({ id: j.id, t: j.t, tenant: j.tenant, jobClass: j.class, cost: j.cost, estimate: j.cost, priority: 0 })),
    policy,
  );
  const start = new Map(schedule.map((s) => [s.id, s.start]));
  return {
    jobs: jobs.map((j) => ({ ...j, wait: (start.get(j.id) as number) - j.t })),
    end: {
      kind: 'end',
      format: 'fairway-trace/1',
      from: '2026-12-06T21:00:00.000Z',
      to: '2026-12-06T22:00:00.000Z',
      jobs: jobs.length,
      unfinished: 0,
      tiers,
      quotas: { acme: QUOTA_DEFAULTS, globex: QUOTA_DEFAULTS, small: QUOTA_DEFAULTS },
    },
  };
}

describe('whatIfOnRecordedTrace: the recorded waits, the replay, the proposed change and the fluid ideal side by side', () => {
  it('reproduces the recorded waits exactly when the recording is a replay of the same core', () => {
    const report = whatIfOnRecordedTrace(recordedTrace(), {});
    expect(report.fidelity).toEqual({ worstP50ErrorMs: 0, worstP99ErrorMs: 0 });
    expect(report.dispatchOverheadMs).toEqual({ standard: 0 });
    for (const line of report.tenants) {
      expect(line.simulated).toEqual(line.recorded);
      expect(line.proposed).toEqual(line.simulated);
    }
    expect(report.tenants.map((t) => [t.tenant, t.jobs])).toEqual([
      ['acme', 60],
      ['globex', 60],
      ['small', 6],
    ]);
  });

  it('shows a heavier weight shortening a tenant’s waits and a concurrency cap lengthening another’s', () => {
    const report = whatIfOnRecordedTrace(recordedTrace(), parseQuotaAssignments(['acme:weight=3', 'globex:maxInFlight=1']));
    const acme = report.tenants.find((t) => t.tenant === 'acme');
    const globex = report.tenants.find((t) => t.tenant === 'globex');
    expect(acme?.quota.proposed.weight).toBe(3);
    expect(globex?.quota.proposed.maxInFlight).toBe(1);
    expect(acme?.proposed.waitP50Ms).toBeLessThan(acme?.simulated.waitP50Ms ?? 0);
    expect(globex?.proposed.waitP99Ms).toBeGreaterThan(globex?.simulated.waitP99Ms ?? Infinity);
    // The fluid ideal under the change: acme gets three slots' worth to globex's one, so it is done first.
    expect(acme?.ideal.waitP99Ms).toBeLessThan(globex?.ideal.waitP99Ms ?? 0);
    expect(report.changes).toEqual({ acme: { weight: 3, clear: [] }, globex: { maxInFlight: 1, clear: [] } });
  });

  it('refuses a change to a tenant without jobs in the trace, and a trace without capacity', () => {
    expect(() => whatIfOnRecordedTrace(recordedTrace(), parseQuotaAssignments(['nobody:weight=2']))).toThrow('no job of nobody in the trace');
    expect(() => whatIfOnRecordedTrace(recordedTrace(), {}, {})).toThrow('the trace records no capacity');
    expect(() => whatIfOnRecordedTrace(recordedTrace(), {}, { heavy: { slots: 1 } })).toThrow(
      "the trace cannot be simulated on tiers heavy: job class 'standard' names no tier",
    );
  });
});

describe('estimateDispatchOverhead: slot time the measured costs miss, from the recorded trace', () => {
  const job = (id: string, tenant: string, cost = 100) => ({ id, t: 0, tenant, jobClass: 'standard', cost, estimate: cost, priority: 0 });
  const tiers = { standard: { slots: 1 } };

  it('finds the gap between one job and the next on a backlogged tier', () => {
    const jobs = Array.from({ length: 30 }, (_, i) => job(`j${i}`, 'acme'));
    const starts = new Map(jobs.map((j, i) => [j.id, i * 110]));
    // 29 gaps of 10 ms, shared by the 30 jobs started while the tier was backlogged.
    expect(estimateDispatchOverhead(jobs, starts, tiers, new Map())['standard']).toBeCloseTo((29 * 10) / 30, 6);
  });

  it("does not take a capped tenant's backlog on an idle tier for overhead", () => {
    const jobs = Array.from({ length: 30 }, (_, i) => job(`j${i}`, 'acme'));
    const starts = new Map(jobs.map((j, i) => [j.id, i * 110]));
    const capped = new Map([['acme', { ...QUOTA_DEFAULTS, maxInFlight: 1 }]]);
    expect(estimateDispatchOverhead(jobs, starts, { standard: { slots: 4 } }, capped)['standard']).toBe(0);
    // Rate-limited: its waiting jobs may be waiting for tokens, not for a slot.
    const limited = new Map([['acme', { ...QUOTA_DEFAULTS, rate: 9 }]]);
    expect(estimateDispatchOverhead(jobs, starts, tiers, limited)['standard']).toBe(0);
  });

  it('estimates nothing from fewer than 20 jobs started on a backlogged tier', () => {
    const jobs = Array.from({ length: 10 }, (_, i) => job(`j${i}`, 'acme'));
    const starts = new Map(jobs.map((j, i) => [j.id, i * 110]));
    expect(estimateDispatchOverhead(jobs, starts, tiers, new Map())['standard']).toBe(0);
  });
});
