import fc from 'fast-check';
import type { JobSpec } from '@fairway/fair-scheduler';
import { ArrivalOrderPolicy, parseTiers, slotsForCapacity, type TierSpec } from './policy';

describe('parseTiers (SCHEDULER_TIERS)', () => {
  it.each([
    {
      name: 'fixed slots with lending',
      spec: 'interactive:2,standard:4>interactive,heavy:2',
      tiers: { interactive: { slots: 2 }, standard: { slots: 4, lendTo: ['interactive'] }, heavy: { slots: 2 } },
    },
    {
      name: 'lending to several tiers, with spaces around the parts',
      spec: ' a:1 , b:3>a|c-1 , c-1:1 ',
      tiers: { a: { slots: 1 }, b: { slots: 3, lendTo: ['a', 'c-1'] }, 'c-1': { slots: 1 } },
    },
    {
      name: 'percent shares (the default), each starting at 1 slot',
      spec: 'interactive:25%,standard:50%>interactive,heavy:25%',
      tiers: {
        interactive: { slots: 1, share: 25 },
        standard: { slots: 1, share: 50, lendTo: ['interactive'] },
        heavy: { slots: 1, share: 25 },
      },
    },
    { name: 'one tier with the whole capacity', spec: 'default:100%', tiers: { default: { slots: 1, share: 100 } } },
    { name: 'the smallest share', spec: 'a:1%,b:99%', tiers: { a: { slots: 1, share: 1 }, b: { slots: 1, share: 99 } } },
    { name: 'an empty part between commas', spec: 'a:1,,b:2', tiers: { a: { slots: 1 }, b: { slots: 2 } } },
  ])('parses $name', ({ spec, tiers }) => {
    expect(parseTiers(spec)).toStrictEqual(tiers);
  });

  it.each([
    { name: 'an empty spec', spec: '', message: 'SCHEDULER_TIERS must name at least one tier' },
    { name: 'only commas and spaces', spec: ' , ,', message: 'SCHEDULER_TIERS must name at least one tier' },
    { name: 'a mix of shares and fixed slots', spec: 'standard:50%,heavy:2', message: 'not a mix' },
    { name: 'a mix with the share last', spec: 'heavy:2,standard:50%', message: 'not a mix' },
    { name: '0 slots', spec: 'standard:0', message: "'standard:0' needs at least 1 slot" },
    { name: '0%', spec: 'standard:0%', message: "'standard:0%' needs a percent from 1 to 100" },
    { name: '101%', spec: 'standard:101%', message: "'standard:101%' needs a percent from 1 to 100" },
    { name: 'a tier without slots', spec: 'standard', message: "'standard' is not <tier>:<slots>" },
    { name: 'negative slots', spec: 'standard:-1', message: "'standard:-1' is not <tier>:<slots>" },
    { name: 'fractional slots', spec: 'standard:1.5', message: "'standard:1.5' is not <tier>:<slots>" },
    { name: 'a fractional percent', spec: 'standard:12.5%', message: "'standard:12.5%' is not <tier>:<slots>" },
    { name: 'a doubled percent sign', spec: 'standard:50%%', message: "'standard:50%%' is not <tier>:<slots>" },
    { name: 'an upper-case tier name', spec: 'Standard:2', message: "'Standard:2' is not <tier>:<slots>" },
    { name: 'a tier name starting with a digit', spec: '1st:2', message: "'1st:2' is not <tier>:<slots>" },
    { name: 'an empty lendTo', spec: 'standard:2>', message: "'standard:2>' is not <tier>:<slots>" },
    { name: 'garbage', spec: 'slots=4;heavy', message: "'slots=4;heavy' is not <tier>:<slots>" },
  ])('refuses $name, naming the variable', ({ spec, message }) => {
    expect(() => parseTiers(spec)).toThrow(message);
    expect(() => parseTiers(spec)).toThrow(/SCHEDULER_TIERS/);
  });
});

describe('slotsForCapacity', () => {
  const DEFAULT = parseTiers('interactive:25%,standard:50%>interactive,heavy:25%');

  it.each([
    { name: 'the default at capacity 4', tiers: DEFAULT, capacity: 4, slots: { interactive: 1, standard: 2, heavy: 1 } },
    { name: 'the default at capacity 100', tiers: DEFAULT, capacity: 100, slots: { interactive: 25, standard: 50, heavy: 25 } },
    // 2.5 / 5 / 2.5: one slot left over for two equal remainders goes to the first name in order.
    { name: 'the default at capacity 10 (a tie broken by name)', tiers: DEFAULT, capacity: 10, slots: { interactive: 2, standard: 5, heavy: 3 } },
    { name: 'thirds at capacity 10 (largest remainder)', tiers: parseTiers('a:33%,b:33%,c:34%'), capacity: 10, slots: { a: 3, b: 3, c: 4 } },
    { name: 'a tier too small for its share still gets 1 slot', tiers: DEFAULT, capacity: 1, slots: { interactive: 1, standard: 1, heavy: 1 } },
    { name: 'a 1% tier at capacity 2, within the capacity', tiers: parseTiers('a:1%,b:99%'), capacity: 2, slots: { a: 1, b: 1 } },
    { name: 'fixed tiers (left out)', tiers: parseTiers('interactive:2,standard:4'), capacity: 16, slots: {} },
  ])('apportions $name', ({ tiers, capacity, slots }) => {
    expect(slotsForCapacity(tiers, capacity)).toStrictEqual(slots);
  });

  /** 1 to 6 tiers with integer shares >= 1 that add up to 100. */
  const sharesOf100 = fc
    .integer({ min: 1, max: 6 })
    .chain((n) => fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: n - 1, maxLength: n - 1 }))
    .map((cuts) => {
      const points = [0, ...[...cuts].sort((a, b) => a - b), 100];
      const tiers: Record<string, TierSpec> = {};
      for (let i = 1; i < points.length; i += 1) tiers[`tier-${i}`] = { slots: 1, share: (points[i] as number) - (points[i - 1] as number) };
      return tiers;
    });

  it('gives every tier at least 1 slot and exactly the capacity in all, when the shares add up to 100%', () => {
    fc.assert(
      fc.property(
        sharesOf100.chain((tiers) => fc.record({ tiers: fc.constant(tiers), capacity: fc.integer({ min: Object.keys(tiers).length, max: 500 }) })),
        ({ tiers, capacity }) => {
          const slots = slotsForCapacity(tiers, capacity);
          expect(Object.keys(slots).sort()).toEqual(Object.keys(tiers).sort());
          for (const n of Object.values(slots)) {
            expect(Number.isInteger(n)).toBe(true);
            expect(n).toBeGreaterThanOrEqual(1);
          }
          expect(Object.values(slots).reduce((sum, n) => sum + n, 0)).toBe(capacity);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('ArrivalOrderPolicy.setTierSlots', () => {
  let seq = 0;
  const job = (jobClass: string): JobSpec => ({ id: `job-${(seq += 1)}`, tenant: 'acme', jobClass, estimate: 1 });

  function drain(policy: ArrivalOrderPolicy): string[] {
    const out: string[] = [];
    for (let d = policy.dispatchNext(); d !== undefined; d = policy.dispatchNext()) out.push(d.job.id);
    return out;
  }

  it('lets more jobs of a grown tier run at once', () => {
    const policy = new ArrivalOrderPolicy({ standard: { slots: 1 } });
    const jobs = [job('standard'), job('standard'), job('standard'), job('standard')];
    for (const j of jobs) policy.enqueue(j);
    expect(drain(policy)).toEqual([jobs[0]?.id]);
    policy.setTierSlots('standard', 3);
    expect(drain(policy)).toEqual([jobs[1]?.id, jobs[2]?.id]);
  });

  it('stops dispatching a tier shrunk below its jobs in use until enough of them completed', () => {
    const policy = new ArrivalOrderPolicy({ standard: { slots: 3 } });
    const running = [job('standard'), job('standard'), job('standard')];
    const waiting = job('standard');
    for (const j of [...running, waiting]) policy.enqueue(j);
    expect(drain(policy)).toHaveLength(3);
    policy.setTierSlots('standard', 1);
    policy.complete(running[0]?.id as string);
    expect(policy.dispatchNext()).toBeUndefined();
    policy.complete(running[1]?.id as string);
    expect(policy.dispatchNext()).toBeUndefined();
    policy.complete(running[2]?.id as string);
    expect(policy.dispatchNext()?.job.id).toBe(waiting.id);
    expect(policy.dispatchNext()).toBeUndefined();
  });

  it('leaves every tier as it was when the tier named is unknown', () => {
    const policy = new ArrivalOrderPolicy({ interactive: { slots: 1 }, standard: { slots: 1 } });
    policy.setTierSlots('gpu', 5);
    for (const j of [job('interactive'), job('interactive'), job('standard'), job('standard')]) policy.enqueue(j);
    expect(drain(policy)).toHaveLength(2);
  });
});
