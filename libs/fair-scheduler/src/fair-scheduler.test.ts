import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAIR_SCHEDULER_ERROR_CODES, FairScheduler, FairSchedulerError } from './index';
import type { Dispatch, FairSchedulerOptions, JobSpec } from './index';

const job = (id: string, tenant: string, extra: Partial<JobSpec> = {}): JobSpec => ({
  id,
  tenant,
  jobClass: 'default',
  estimate: 10,
  ...extra,
});

function drain(scheduler: FairScheduler, now: number): Dispatch[] {
  const out: Dispatch[] = [];
  for (let d = scheduler.dispatchNext(now); d !== undefined; d = scheduler.dispatchNext(now)) out.push(d);
  return out;
}

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof FairSchedulerError ? error.code : `not a FairSchedulerError: ${String(error)}`;
  }
  return undefined;
}

describe('FairScheduler configuration and input errors', () => {
  it.each([
    { name: 'no tiers', options: { tiers: {} }, code: 'INVALID_CONFIG' },
    { name: 'zero slots', options: { tiers: { default: { slots: 0 } } }, code: 'INVALID_CONFIG' },
    { name: 'fractional slots', options: { tiers: { default: { slots: 1.5 } } }, code: 'INVALID_CONFIG' },
    { name: 'lending to an unknown tier', options: { tiers: { a: { slots: 1, lendTo: ['b'] } } }, code: 'INVALID_CONFIG' },
    { name: 'lending to itself', options: { tiers: { a: { slots: 1, lendTo: ['a'] } } }, code: 'INVALID_CONFIG' },
    { name: 'negative default weight', options: { tiers: { default: { slots: 1 } }, defaults: { weight: -1 } }, code: 'INVALID_QUOTA' },
  ])('rejects $name with $code', ({ options, code }) => {
    expect(errorCode(() => new FairScheduler(options as FairSchedulerOptions))).toBe(code);
  });

  it.each([
    { name: 'maxInFlight 0', patch: { maxInFlight: 0 }, message: 'quota.maxInFlight must be an integer >= 1 (got 0)' },
    { name: 'fractional maxInFlight', patch: { maxInFlight: 2.5 }, message: 'quota.maxInFlight must be an integer >= 1 (got 2.5)' },
    { name: 'zero weight', patch: { weight: 0 }, message: 'quota.weight must be a finite number > 0 (got 0)' },
    { name: 'infinite rate', patch: { rate: Infinity }, message: 'quota.rate must be a finite number > 0 (got Infinity)' },
    { name: 'zero per-class cap', patch: { maxInFlightByClass: { heavy: 0 } }, message: 'quota.maxInFlightByClass.heavy must be an integer >= 1 (got 0)' },
  ])('rejects a quota with $name and keeps the old one', ({ patch, message }) => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 1 } } });
    scheduler.setTenantQuota('acme', { weight: 3 });
    expect(() => scheduler.setTenantQuota('acme', patch)).toThrow(message);
    expect(scheduler.getTenantQuota('acme').weight).toBe(3);
  });

  it.each([
    { name: 'an unknown job class', spec: job('j', 'a', { jobClass: 'gpu' }), code: 'UNKNOWN_JOB_CLASS' },
    { name: 'a negative estimate', spec: job('j', 'a', { estimate: -1 }), code: 'INVALID_JOB' },
    { name: 'an empty tenant', spec: job('j', ''), code: 'INVALID_JOB' },
    { name: 'a NaN priority', spec: job('j', 'a', { priority: NaN }), code: 'INVALID_JOB' },
  ])('rejects $name on enqueue', ({ spec, code }) => {
    const scheduler = new FairScheduler({ tiers: { interactive: { slots: 1 }, default: { slots: 1 } } });
    expect(errorCode(() => scheduler.enqueue(spec, 0))).toBe(code);
  });

  it('rejects a duplicate job id, a complete() of a queued job and a cancel() of a running one', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 1 } } });
    scheduler.enqueue(job('a1', 'a'), 0);
    scheduler.enqueue(job('a2', 'a'), 0);
    expect(errorCode(() => scheduler.enqueue(job('a1', 'b'), 0))).toBe('DUPLICATE_JOB');
    expect(scheduler.dispatchNext(0)?.job.id).toBe('a1');
    expect(errorCode(() => scheduler.complete('a2', 1))).toBe('JOB_NOT_RUNNING');
    expect(errorCode(() => scheduler.cancel('a1'))).toBe('JOB_ALREADY_RUNNING');
    expect(errorCode(() => scheduler.complete('nope', 1))).toBe('UNKNOWN_JOB');
    expect(scheduler.cancel('nope')).toBe(false);
  });

  it('documents every error code in docs/scheduling.md', () => {
    const docs = readFileSync(join(__dirname, '../../../docs/scheduling.md'), 'utf8');
    for (const code of Object.values(FAIR_SCHEDULER_ERROR_CODES)) expect(docs).toContain(`\`${code}\``);
  });

  it('marks its errors not retriable', () => {
    expect(new FairSchedulerError('INVALID_QUOTA', 'x').retriable).toBe(false);
  });
});

describe('FairScheduler decisions', () => {
  it('splits contended slots by weight (2:1)', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 1 } } });
    scheduler.setTenantQuota('heavy', { weight: 2 });
    for (let i = 0; i < 30; i++) {
      scheduler.enqueue(job(`h${i}`, 'heavy'), 0);
      scheduler.enqueue(job(`l${i}`, 'light'), 0);
    }
    const order: string[] = [];
    for (let t = 0; t < 30; t++) {
      const d = scheduler.dispatchNext(t) as Dispatch;
      order.push(d.job.tenant);
      scheduler.complete(d.job.id, t + 1);
    }
    expect(order.filter((tenant) => tenant === 'heavy')).toHaveLength(20);
  });

  it('runs a tenant’s jobs by priority, then arrival order, without buying it extra share', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 1 } } });
    scheduler.enqueue(job('a-low', 'a', { priority: 0 }), 0);
    scheduler.enqueue(job('a-high', 'a', { priority: 9 }), 0);
    scheduler.enqueue(job('a-high-2', 'a', { priority: 9 }), 0);
    scheduler.enqueue(job('b-1', 'b'), 0);
    const order: string[] = [];
    for (let t = 0; t < 4; t++) {
      const d = scheduler.dispatchNext(t) as Dispatch;
      order.push(d.job.id);
      scheduler.complete(d.job.id, t);
    }
    expect(order).toEqual(['a-high', 'b-1', 'a-high-2', 'a-low']);
  });

  it('charges the real cost at completion, so a tenant under-estimating its jobs falls behind', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 1 } } });
    for (let i = 0; i < 10; i++) {
      scheduler.enqueue(job(`liar${i}`, 'liar', { estimate: 1 }), 0);
      scheduler.enqueue(job(`honest${i}`, 'honest', { estimate: 10 }), 0);
    }
    let liarService = 0;
    let honestService = 0;
    for (let t = 0; t < 10; t++) {
      const d = scheduler.dispatchNext(t) as Dispatch;
      scheduler.complete(d.job.id, t, 10);
      if (d.job.tenant === 'liar') liarService += 10;
      else honestService += 10;
    }
    expect(Math.abs(liarService - honestService)).toBeLessThanOrEqual(20);
    expect(scheduler.stats('liar').virtualTime).toBe(liarService);
  });

  it('keeps heavy work out of other tiers and lends only where configured', () => {
    const scheduler = new FairScheduler({
      tiers: { interactive: { slots: 1 }, standard: { slots: 2, lendTo: ['interactive'] }, heavy: { slots: 1 } },
    });
    for (let i = 0; i < 3; i++) scheduler.enqueue(job(`h${i}`, 'a', { jobClass: 'heavy' }), 0);
    for (let i = 0; i < 3; i++) scheduler.enqueue(job(`i${i}`, 'b', { jobClass: 'interactive' }), 0);
    const decisions = drain(scheduler, 0).map((d) => `${d.job.id}@${d.tier}`);
    expect(decisions.sort()).toEqual(['h0@heavy', 'i0@interactive', 'i1@standard', 'i2@standard']);
    expect(scheduler.snapshot().tiers.find((t) => t.name === 'heavy')?.inUse).toBe(1);
  });

  it('serves a tier’s own class before lending its slot', () => {
    const scheduler = new FairScheduler({ tiers: { interactive: { slots: 1 }, standard: { slots: 1, lendTo: ['interactive'] } } });
    scheduler.enqueue(job('i0', 'a', { jobClass: 'interactive' }), 0);
    scheduler.enqueue(job('i1', 'a', { jobClass: 'interactive' }), 0);
    scheduler.enqueue(job('s0', 'b', { jobClass: 'standard' }), 0);
    expect(drain(scheduler, 0).map((d) => `${d.job.id}@${d.tier}`)).toEqual(['i0@interactive', 's0@standard']);
  });

  it('applies live quota changes from the next decision', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 10 } } });
    scheduler.setTenantQuota('a', { maxInFlight: 1 });
    for (let i = 0; i < 5; i++) scheduler.enqueue(job(`a${i}`, 'a'), 0);
    expect(drain(scheduler, 0)).toHaveLength(1);
    scheduler.setTenantQuota('a', { maxInFlight: 3 }, 1);
    expect(drain(scheduler, 1)).toHaveLength(2);
    scheduler.setTenantQuota('a', { maxInFlight: null }, 2);
    expect(drain(scheduler, 2)).toHaveLength(2);
  });

  it('honours per-class caps while other classes of the same tenant keep running', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 10 } } });
    scheduler.setTenantQuota('a', { maxInFlightByClass: { export: 1 } });
    scheduler.enqueue(job('e0', 'a', { jobClass: 'export' }), 0);
    scheduler.enqueue(job('e1', 'a', { jobClass: 'export' }), 0);
    scheduler.enqueue(job('r0', 'a', { jobClass: 'report' }), 0);
    expect(
      drain(scheduler, 0)
        .map((d) => d.job.id)
        .sort(),
    ).toEqual(['e0', 'r0']);
    expect(scheduler.explain('a', 0).state).toBe('at-class-max-in-flight');
    scheduler.complete('e0', 5);
    expect(drain(scheduler, 5).map((d) => d.job.id)).toEqual(['e1']);
  });

  it('wakes a token-blocked tenant at its refill time instead of polling', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 10 } } });
    scheduler.setTenantQuota('a', { rate: 2, burst: 1 }, 0);
    for (let i = 0; i < 3; i++) scheduler.enqueue(job(`a${i}`, 'a'), 0);
    expect(drain(scheduler, 0)).toHaveLength(1);
    expect(scheduler.nextWakeAt(0)).toBeCloseTo(500, 9);
    expect(drain(scheduler, 499)).toHaveLength(0);
    expect(drain(scheduler, 500)).toHaveLength(1);
    expect(scheduler.nextWakeAt(500)).toBeCloseTo(1000, 9);
  });

  it('charges cost-based buckets in cost units and books overruns as debt', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 10 } } });
    scheduler.setTenantQuota('a', { rate: 100, burst: 100, rateBasis: 'cost' }, 0);
    scheduler.enqueue(job('a0', 'a', { estimate: 50 }), 0);
    scheduler.enqueue(job('a1', 'a', { estimate: 50 }), 0);
    scheduler.enqueue(job('a2', 'a', { estimate: 50 }), 0);
    expect(drain(scheduler, 0)).toHaveLength(2);
    scheduler.complete('a0', 0, 150);
    expect(scheduler.stats('a').tokens).toBeCloseTo(-100, 9);
    expect(scheduler.nextWakeAt(0)).toBeCloseTo(1500, 9);
  });

  it('keeps an idle tenant as a compact record with its virtual-time residue', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 1 } } });
    scheduler.enqueue(job('a0', 'a', { estimate: 7 }), 0);
    drain(scheduler, 0);
    scheduler.complete('a0', 7);
    expect(scheduler.snapshot()).toMatchObject({ tenants: 1, activeTenants: 0, queuedJobs: 0, runningJobs: 0 });
    expect(scheduler.stats('a').virtualTime).toBe(7);
    expect(scheduler.forgetIdleTenant('a')).toBe(true);
    expect(scheduler.snapshot().tenants).toBe(0);
  });

  it('starts a newcomer at GPS virtual time: no earlier and no later than a tenant that has been waiting', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 1 } } });
    for (let i = 0; i < 20; i++) scheduler.enqueue(job(`x${i}`, 'x'), 0);
    for (let t = 0; t < 100; t += 10) {
      drain(scheduler, t);
      scheduler.complete(`x${t / 10}`, t + 10);
    }
    // x alone on one slot for 100 ms: GPS virtual time is 100, x has been charged 100.
    scheduler.enqueue(job('y0', 'y'), 100);
    expect(scheduler.explain('y', 100).virtual?.finishTag).toBe(110);
    expect(scheduler.explain('x', 100).virtual?.finishTag).toBe(110);
    expect(scheduler.snapshot().tiers[0]?.virtualTime).toBe(100);
  });

  it('advances the virtual clock at the water level: a tenant with fewer jobs than its share leaves the rest to the others', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 4 } } });
    for (let i = 0; i < 8; i++) scheduler.enqueue(job(`b${i}`, 'b', { estimate: 50 }), 0);
    expect(drain(scheduler, 0)).toHaveLength(4);
    // b alone can use all four slots: V = 10 ms * 4 / 1. (A clock that jumps by each dispatched
    // cost would be at 200 and put a newcomer behind b's queued work, although GPS serves it at once.)
    scheduler.enqueue(job('v0', 'v', { estimate: 100 }), 10);
    expect(scheduler.snapshot().tiers[0]?.virtualTime).toBe(40);
    // v's one job can use one slot: water-filled GPS gives b the other three, so V runs at 3 per ms
    // (the plain GPS clock, slots / weights = 2 per ms, would have given v a share it cannot use).
    expect(scheduler.snapshot().tiers[0]?.virtualTime).toBe(40);
    scheduler.nextWakeAt(20);
    expect(scheduler.snapshot().tiers[0]?.virtualTime).toBe(70);
    for (let i = 0; i < 4; i++) scheduler.complete(`b${i}`, 50);
    expect(drain(scheduler, 50).map((d) => d.job.id)).toContain('v0');
  });

  it('advances the virtual clock by the weights in force: a live weight change re-rates it from then on', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 2 } } });
    for (let i = 0; i < 4; i++) {
      scheduler.enqueue(job(`a${i}`, 'a', { estimate: 100 }), 0);
      scheduler.enqueue(job(`b${i}`, 'b', { estimate: 100 }), 0);
    }
    drain(scheduler, 0);
    // Two backlogged tenants of weight 1 on 2 slots: 1 unit of virtual time per ms.
    scheduler.setTenantQuota('a', { weight: 3 }, 10);
    expect(scheduler.snapshot().tiers[0]?.virtualTime).toBe(10);
    // From t=10 the backlogged weight is 4: 2 slots / 4 = 0.5 per ms.
    scheduler.nextWakeAt(30);
    expect(scheduler.snapshot().tiers[0]?.virtualTime).toBe(20);
  });

  it('forgives a lead once the tier idles, so a tenant whose long job ran early is not pushed back later', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 1 } } });
    scheduler.enqueue(job('x0', 'x', { estimate: 200 }), 0);
    drain(scheduler, 0);
    scheduler.setTenantQuota('y', { weight: 3 }, 50);
    scheduler.enqueue(job('y0', 'y', { estimate: 5 }), 50);
    scheduler.complete('x0', 200);
    drain(scheduler, 200);
    scheduler.complete('y0', 205);
    expect(scheduler.snapshot().activeTenants).toBe(0);
    // Both come back after the busy period: x's small job must not queue behind y's larger one.
    scheduler.enqueue(job('y1', 'y', { estimate: 50 }), 450);
    scheduler.enqueue(job('x1', 'x', { estimate: 5 }), 450);
    expect(drain(scheduler, 450).map((d) => d.job.id)).toEqual(['x1']);
  });

  it('removes a cancelled job so it never runs', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 1 } } });
    scheduler.enqueue(job('a0', 'a'), 0);
    scheduler.enqueue(job('a1', 'a'), 0);
    expect(scheduler.cancel('a0')).toBe(true);
    expect(drain(scheduler, 0).map((d) => d.job.id)).toEqual(['a1']);
  });
});

describe('FairScheduler.explain', () => {
  function setUp(): FairScheduler {
    const scheduler = new FairScheduler({ tiers: { interactive: { slots: 1 }, heavy: { slots: 1 } } });
    scheduler.setTenantQuota('capped', { maxInFlight: 1 });
    scheduler.setTenantQuota('limited', { rate: 1, burst: 1 }, 0);
    return scheduler;
  }

  it.each([
    {
      name: 'nothing queued',
      arrange: (): void => undefined,
      tenant: 'idle',
      state: 'nothing-queued',
      reason: /has nothing queued/,
    },
    {
      name: 'at maxInFlight',
      arrange: (s: FairScheduler): void => {
        s.enqueue(job('c0', 'capped', { jobClass: 'heavy' }), 0);
        s.enqueue(job('c1', 'capped', { jobClass: 'interactive' }), 0);
        drain(s, 0);
      },
      tenant: 'capped',
      state: 'at-max-in-flight',
      reason: /1 of 1 jobs running/,
    },
    {
      name: 'no tokens until a time',
      arrange: (s: FairScheduler): void => {
        s.enqueue(job('l0', 'limited', { jobClass: 'interactive' }), 0);
        s.enqueue(job('l1', 'limited', { jobClass: 'heavy' }), 0);
        drain(s, 0);
      },
      tenant: 'limited',
      state: 'no-tokens',
      reason: /reaches it at t=1000\.000ms/,
    },
    {
      name: 'next',
      arrange: (s: FairScheduler): void => s.enqueue(job('n0', 'n', { jobClass: 'heavy' }), 0),
      tenant: 'n',
      state: 'next',
      reason: /is next in tier 'heavy'/,
    },
    {
      name: 'tier full',
      arrange: (s: FairScheduler): void => {
        s.enqueue(job('x0', 'x', { jobClass: 'heavy' }), 0);
        s.enqueue(job('y0', 'y', { jobClass: 'heavy' }), 0);
        drain(s, 0);
      },
      tenant: 'y',
      state: 'tier-full',
      reason: /tier 'heavy' is full: 1 of 1 slots in use; tenant 'y' is first in line/,
    },
    {
      name: 'behind others by virtual time',
      arrange: (s: FairScheduler): void => {
        s.enqueue(job('x0', 'x', { jobClass: 'heavy' }), 0);
        s.enqueue(job('x1', 'x', { jobClass: 'heavy' }), 0);
        drain(s, 0);
        s.enqueue(job('y0', 'y', { jobClass: 'heavy', estimate: 1 }), 0);
      },
      tenant: 'x',
      state: 'behind-others',
      // x's first job started at t=0; y arrives at t=0 too, so GPS virtual time is still 0 and y's
      // tag is 0 + 1/1, while x's next tag is 10 + 10.
      reason: /by 19\.000 virtual time: its finish tag 20\.000 vs 1\.000 for tenant 'y'/,
    },
  ])('explains $name', ({ arrange, tenant, state, reason }) => {
    const scheduler = setUp();
    arrange(scheduler);
    const explanation = scheduler.explain(tenant, 0);
    expect(explanation.state).toBe(state);
    expect(explanation.reason).toMatch(reason);
    // waitState (what the metrics ask for every tenant each tick) is explain's state without the text.
    expect(scheduler.waitState(tenant, 0)).toBe(state);
  });
});
