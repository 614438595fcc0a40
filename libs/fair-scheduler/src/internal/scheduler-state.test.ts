import fc from 'fast-check';
import { BASE_QUOTA } from './quota';
import { JobRecord, Lane, TenantState } from './scheduler-state';
import { TierState } from './tier-clock';

/** One job of the property below: its priority, and whether it was dispatched (in which order). */
interface JobShape {
  priority: number;
  dispatched: boolean;
}

describe('Lane.outstandingJobs', () => {
  it('returns the queued, parked and running jobs of its tier in arrival order, whatever the priorities and the dispatch order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ priority: fc.integer({ min: 0, max: 2 }), dispatched: fc.boolean() }), { maxLength: 40 }),
        fc.boolean(),
        fc.boolean(),
        fc.nat(),
        (shapes: JobShape[], onePriority: boolean, withParked: boolean, seed: number) => {
          const tenant = new TenantState('t', BASE_QUOTA);
          const tier = new TierState('default', 0, 8);
          const other = new TierState('other', 1, 8);
          const lane = new Lane(tenant, tier);
          tenant.running = [];
          const all: JobRecord[] = [];
          shapes.forEach((shape, seq) => {
            const priority = onePriority ? 0 : shape.priority;
            const job = new JobRecord({ id: `j${seq}`, tenant: 't', jobClass: 'default', estimate: 1 }, tenant, tier, priority, seq);
            all.push(job);
            lane.jobs.push(job);
          });
          // Dispatch some of them, each time the lane's head or (as a dense tier's lane may send) a
          // later job of the head's priority, picked by the seed.
          let pickSeed = seed;
          for (const [index, shape] of shapes.entries()) {
            if (!shape.dispatched || lane.jobs.size === 0) continue;
            const queued = lane.jobs.sortedCopy();
            const head = queued[0] as JobRecord;
            const samePriority = queued.filter((job) => job.heapKey === head.heapKey);
            const pick = samePriority[(pickSeed + index) % samePriority.length] as JobRecord;
            pickSeed = (pickSeed * 31 + 7) >>> 0;
            lane.jobs.remove(pick);
            pick.state = 'running';
            tenant.running.push(pick);
          }
          // A running job of another tier is not the lane's.
          const foreign = new JobRecord({ id: 'x', tenant: 't', jobClass: 'other', estimate: 1 }, tenant, other, 0, shapes.length);
          foreign.state = 'running';
          tenant.running.push(foreign);
          if (withParked && lane.jobs.size > 0) {
            const parkedJob = lane.jobs.pop() as JobRecord;
            parkedJob.state = 'parked';
            lane.parked = new Map();
            const parked = new (lane.jobs.constructor as new () => typeof lane.jobs)();
            parked.push(parkedJob);
            lane.parked.set('default', parked);
          }
          const expected = all.slice().sort((a, b) => a.heapTie - b.heapTie);
          expect(lane.outstandingJobs().map((job) => job.id)).toEqual(expected.map((job) => job.id));
        },
      ),
      { numRuns: 500 },
    );
  });
});
