import { FairScheduler, FairSchedulerError } from './index';
import type { Dispatch, JobSpec } from './index';

const job = (id: string, tenant: string, extra: Partial<JobSpec> = {}): JobSpec => ({ id, tenant, jobClass: 'default', estimate: 10, ...extra });

function drain(scheduler: FairScheduler, now: number): Dispatch[] {
  const out: Dispatch[] = [];
  for (let d = scheduler.dispatchNext(now); d !== undefined; d = scheduler.dispatchNext(now)) out.push(d);
  return out;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

const slotsOf = (scheduler: FairScheduler, tier: string) => scheduler.snapshot().tiers.find((t) => t.name === tier)?.slots;

describe('FairScheduler.setTierSlots (a tier resized live)', () => {
  it('lets more jobs of a grown tier run at once', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 2 } } });
    for (let i = 0; i < 6; i++) scheduler.enqueue(job(`a${i}`, 'a'), 0);
    expect(drain(scheduler, 0)).toHaveLength(2);
    scheduler.setTierSlots('default', 5, 1);
    expect(drain(scheduler, 1)).toHaveLength(3);
    expect(scheduler.snapshot().tiers[0]).toMatchObject({ slots: 5, inUse: 5 });
  });

  it('stops dispatching a tier shrunk below its jobs in use until enough of them completed', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 4 } } });
    for (let i = 0; i < 6; i++) scheduler.enqueue(job(`a${i}`, 'a'), 0);
    const running = drain(scheduler, 0).map((d) => d.job.id);
    expect(running).toHaveLength(4);

    scheduler.setTierSlots('default', 2, 1);
    // Jobs already running keep their slots.
    expect(scheduler.snapshot().tiers[0]).toMatchObject({ slots: 2, inUse: 4 });
    expect(scheduler.explain('a', 1)).toMatchObject({ state: 'tier-full' });
    scheduler.complete(running[0] as string, 2);
    expect(scheduler.dispatchNext(2)).toBeUndefined();
    scheduler.complete(running[1] as string, 3);
    expect(scheduler.dispatchNext(3)).toBeUndefined();
    scheduler.complete(running[2] as string, 4);
    expect(scheduler.dispatchNext(4)?.job.id).toBe('a4');
    expect(scheduler.dispatchNext(4)).toBeUndefined();
  });

  it('resizes only the tier named', () => {
    const scheduler = new FairScheduler({ tiers: { interactive: { slots: 1 }, heavy: { slots: 1 } } });
    for (let i = 0; i < 3; i++) {
      scheduler.enqueue(job(`i${i}`, 'a', { jobClass: 'interactive' }), 0);
      scheduler.enqueue(job(`h${i}`, 'a', { jobClass: 'heavy' }), 0);
    }
    scheduler.setTierSlots('interactive', 3, 0);
    const byTier = drain(scheduler, 0).map((d) => d.tier);
    expect(byTier.filter((t) => t === 'interactive')).toHaveLength(3);
    expect(byTier.filter((t) => t === 'heavy')).toHaveLength(1);
  });

  it('settles the virtual clock at the old rate up to the resize, then runs it at the new one', () => {
    const scheduler = new FairScheduler({ tiers: { default: { slots: 1 } } });
    for (let i = 0; i < 8; i++) scheduler.enqueue(job(`b${i}`, 'b', { estimate: 50 }), 0);
    drain(scheduler, 0);
    // One backlogged tenant of weight 1: V runs at slots / 1 per ms. 10 ms on 1 slot, then 10 ms on
    // 4 slots: 10 + 40. (Resizing without settling first would give 20 * 4.)
    scheduler.setTierSlots('default', 4, 10);
    drain(scheduler, 20);
    expect(scheduler.snapshot().tiers[0]?.virtualTime).toBe(50);
  });

  it('lets a grown lender tier lend its new idle slots', () => {
    const scheduler = new FairScheduler({ tiers: { interactive: { slots: 1 }, standard: { slots: 1, lendTo: ['interactive'] } } });
    for (let i = 0; i < 4; i++) scheduler.enqueue(job(`i${i}`, 'a', { jobClass: 'interactive' }), 0);
    expect(drain(scheduler, 0).map((d) => d.tier)).toEqual(['interactive', 'standard']);
    scheduler.setTierSlots('standard', 3, 1);
    expect(drain(scheduler, 1).map((d) => d.tier)).toEqual(['standard', 'standard']);
  });

  it.each([
    { name: 'an unknown tier', tier: 'gpu', slots: 3, message: "no tier 'gpu' (tiers: interactive, standard)" },
    { name: '0 slots', tier: 'standard', slots: 0, message: 'tiers.standard.slots must be an integer >= 1 (got 0)' },
    { name: 'negative slots', tier: 'standard', slots: -2, message: 'tiers.standard.slots must be an integer >= 1 (got -2)' },
    { name: 'fractional slots', tier: 'standard', slots: 2.5, message: 'tiers.standard.slots must be an integer >= 1 (got 2.5)' },
    { name: 'NaN slots', tier: 'standard', slots: NaN, message: 'tiers.standard.slots must be an integer >= 1 (got NaN)' },
    { name: 'infinite slots', tier: 'standard', slots: Infinity, message: 'tiers.standard.slots must be an integer >= 1 (got Infinity)' },
    { name: 'slots given as a string', tier: 'standard', slots: '3' as unknown as number, message: 'tiers.standard.slots must be an integer >= 1 (got 3)' },
  ])('refuses $name with INVALID_CONFIG and keeps the old size', ({ tier, slots, message }) => {
    const scheduler = new FairScheduler({ tiers: { interactive: { slots: 1 }, standard: { slots: 2 } } });
    const err = thrown(() => scheduler.setTierSlots(tier, slots, 0));
    expect(err).toBeInstanceOf(FairSchedulerError);
    expect(err).toMatchObject({ code: 'INVALID_CONFIG', message });
    expect(slotsOf(scheduler, 'interactive')).toBe(1);
    expect(slotsOf(scheduler, 'standard')).toBe(2);
    for (let i = 0; i < 4; i++) scheduler.enqueue(job(`s${i}`, 'a', { jobClass: 'standard' }), 0);
    expect(drain(scheduler, 0)).toHaveLength(2);
  });
});
