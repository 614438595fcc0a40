import fc from 'fast-check';
import { runSimulation } from './simulation/discrete-event';
import { ClairvoyantPolicy } from './simulation/clairvoyant-policy';
import { FairwayPolicy } from './simulation/fairway-policy';
import { computeFluidIdeal } from './simulation/fluid-ideal';
import { checkMisestimateBound, checkTierFinishBound, tierLmax } from './simulation/metrics';
import type { ScheduledJob } from './simulation/discrete-event';
import type { FluidJob } from './simulation/fluid-ideal';
import { cappedWhaleScenario, multiTierFloodScenario, seededRandom } from './simulation/quota-scenarios';
import { randomQuotaScenario } from './simulation/random-scenarios';
import type { SimulationConfig, TraceJob } from './simulation/trace';

// Issue #15: the bound `finish <= water-filled GPS finish + L_max of the job's tier`, checked
// against the simulator's fluid ideal where operators use quotas: caps, several tiers, lending,
// weights and estimates that are off.

function run(config: SimulationConfig, trace: readonly TraceJob[]): { schedule: ScheduledJob[]; ideal: Map<string, FluidJob> } {
  const { schedule, neverRan } = runSimulation(trace, new FairwayPolicy(config));
  expect(neverRan).toEqual([]);
  return { schedule, ideal: computeFluidIdeal(trace, config) };
}

/** Largest `(finish - fluid finish - L_max) / L_max` over `jobs` (0 when every job meets the bound). */
function worstExcessInLmax(
  schedule: readonly ScheduledJob[],
  ideal: ReadonlyMap<string, FluidJob>,
  config: SimulationConfig,
  include: (job: ScheduledJob) => boolean = () => true,
): number {
  const lmax = tierLmax(schedule, config);
  const catchAll = config.tiers['default'] !== undefined;
  let worst = 0;
  for (const job of schedule) {
    if (!include(job)) continue;
    const slack = lmax.get(catchAll ? 'default' : job.jobClass) as number;
    const excess = (job.finish - ((ideal.get(job.id) as FluidJob).finish + slack)) / slack;
    if (excess > worst) worst = excess;
  }
  return worst;
}

const traceOf = (rows: ReadonlyArray<readonly [string, number, string, string, number]>): TraceJob[] =>
  rows.map(([id, t, tenant, jobClass, cost]) => ({ id, t, tenant, jobClass, cost, estimate: cost, priority: 0 }));

describe('the water-filled GPS + L_max bound (issue #15)', () => {
  it('holds for a capped whale beside an uncapped shark and light tenants on 8 slots', () => {
    // Before the water-filled clock: 1,143 of these 3,489 jobs (all the whale's) finished past
    // the bound, the worst 91 ms past it with L_max = 80 ms. It also guards `takeNext`: a lane GPS
    // serves at its full demand (the whale at its cap of 3) sends its head; sending the job GPS
    // finishes first there put two long whale jobs past the bound (the worst by 1.9 ms).
    const { config, trace } = cappedWhaleScenario();
    const { schedule, ideal } = run(config, trace);
    expect(checkTierFinishBound(schedule, ideal, config).jobsOverBound).toBe(0);
  });

  it('holds for a tenant flooding heavy and standard beside a reporter and interactive apps (three tiers, lending)', () => {
    // Before: 35 of the flooder's jobs past the bound (one virtual time over all its tiers let its
    // heavy work push back its standard work), the worst 223 ms past it.
    const { config, trace } = multiTierFloodScenario();
    const { schedule, ideal } = run(config, trace);
    expect(checkTierFinishBound(schedule, ideal, config).jobsOverBound).toBe(0);
  });

  it('holds in the flood scenario when the flooder misestimates its jobs by up to x2 either way', () => {
    const { config, trace } = multiTierFloodScenario(16, 2);
    const { schedule, ideal } = run(config, trace);
    expect(checkTierFinishBound(schedule, ideal, config).jobsOverBound).toBe(0);
  });

  it('keeps a job GPS already finished ahead of later work when its lane rejoins GPS saturated', () => {
    // Found by the multi-slot property (churn shape): v0-0 waited behind bg0's four 55 ms jobs
    // while GPS finished it at 51; v0-1 arrived at 55, the lane rejoined GPS saturated and was
    // keyed in real time while its head (v0-0) still carried a virtual-time key: bg0's next four
    // jobs went first and v0 finished at 111 (fluid 51 and 56, L_max 55).
    const config: SimulationConfig = { tiers: { default: { slots: 4 } }, tenants: { bg0: { weight: 1 }, v0: { weight: 2 } }, defaults: {} };
    const rows: Array<[string, number, string, string, number]> = [];
    for (let k = 0; k < 8; k++) rows.push([`bg0-${k}`, 0, 'bg0', 'default', 55]);
    rows.push(['v0-0', 50, 'v0', 'default', 1], ['v0-1', 55, 'v0', 'default', 1]);
    const { schedule, ideal } = run(config, traceOf(rows));
    expect(schedule.filter((job) => job.tenant === 'v0').map((job) => job.start)).toEqual([55, 55]);
    expect(checkTierFinishBound(schedule, ideal, config).jobsOverBound).toBe(0);
  });

  it('holds for a short job queued behind a long one of its own lane (GPS runs them side by side)', () => {
    // Found by the misestimate property (its estimates happen to be exact here); a known limit until
    // the per-job reference of dense tiers. The lane-serial reference served a lane's jobs one after
    // another at the lane's rate; the fluid ideal runs them side by side, one slot each. t4's j95
    // (26 ms, behind its own j24 of 141 ms) finishes at 46 in the fluid ideal but only after j24 in
    // that reference, so t1's and t2's jobs arriving at 50 went first and j95 finished at 269: 82 ms
    // past fluid + L_max (141 ms). The per-job reference records j95's GPS finish (46).
    const config: SimulationConfig = {
      tiers: { interactive: { slots: 1 }, standard: { slots: 2, lendTo: ['interactive'] }, heavy: { slots: 3 } },
      tenants: {
        t0: { weight: 1, maxInFlight: 3 },
        t1: { weight: 5, maxInFlight: 2 },
        t2: { weight: 5 },
        t3: { weight: 1, maxInFlight: 1 },
        t4: { weight: 3, maxInFlight: 2 },
      },
      defaults: {},
    };
    const trace = traceOf([
      ['j24', 4, 't4', 'standard', 141],
      ['j49', 50, 't1', 'standard', 106],
      ['j80', 8, 't0', 'interactive', 129],
      ['j85', 0, 't3', 'interactive', 41],
      ['j90', 50, 't2', 'standard', 108],
      ['j95', 20, 't4', 'standard', 26],
    ]);
    const { schedule, ideal } = run(config, trace);
    expect(checkTierFinishBound(schedule, ideal, config).jobsOverBound).toBe(0);
  });

  it('holds for a lender whose slots were borrowed, once GPS stops serving a job it has finished', () => {
    // Found by the seeded search of three tiers with lending; a known limit until the per-job
    // reference. Interactive jobs borrow both standard slots while standard is idle, so standard work
    // arriving at 70 and 90 waits for them. In the lane-level reference t0's demand stayed 2 after
    // GPS finished j57 (a lane's demand was re-estimated only when its own jobs arrived or
    // completed), so t1 kept 0.4 of a slot and j23's GPS finish was 377 ms instead of the ideal's
    // 278; t0's j38 went first and j23 finished 25 ms past fluid + L_max (192 ms). The per-job
    // reference drops a job from the lane's demand the instant GPS finishes it.
    const config: SimulationConfig = {
      tiers: { interactive: { slots: 1 }, standard: { slots: 2, lendTo: ['interactive'] }, heavy: { slots: 1 } },
      tenants: { t0: { weight: 4 }, t1: { weight: 1 }, t2: { weight: 4 } },
      defaults: {},
    };
    const trace = traceOf([
      ['j55', 20, 't0', 'interactive', 168],
      ['j32', 40, 't1', 'interactive', 145],
      ['j31', 60, 't0', 'interactive', 175],
      ['j57', 90, 't0', 'standard', 121],
      ['j38', 180, 't0', 'standard', 192],
      ['j23', 70, 't1', 'standard', 189],
    ]);
    const { schedule, ideal } = run(config, trace);
    expect(checkTierFinishBound(schedule, ideal, config).jobsOverBound).toBe(0);
  });

  it('known limit: a cap that holds a tenant back across tiers moves its work later, past the per-tier ideal', () => {
    // Found by the cap + tiers property before capped tenants were kept to one tier. maxInFlight is
    // tenant-wide; the fluid ideal caps each tier on its own, so t0 (maxInFlight 1, work in
    // interactive and standard) runs its standard jobs far later than the ideal does, and t2's
    // standard job j52, arriving after the ideal had finished t0's, waits behind them.
    const config: SimulationConfig = {
      tiers: { interactive: { slots: 2 }, standard: { slots: 1, lendTo: ['interactive'] }, heavy: { slots: 1 } },
      tenants: { t0: { weight: 5, maxInFlight: 1 }, t1: { weight: 1, maxInFlight: 2 }, t2: { weight: 4 } },
      defaults: {},
    };
    const trace = traceOf([
      ['j0', 310, 't2', 'interactive', 66],
      ['j2', 310, 't0', 'standard', 70],
      ['j5', 210, 't1', 'standard', 101],
      ['j9', 20, 't2', 'standard', 145],
      ['j15', 480, 't2', 'standard', 119],
      ['j23', 310, 't0', 'interactive', 175],
      ['j36', 270, 't0', 'standard', 46],
      ['j37', 260, 't1', 'interactive', 92],
      ['j39', 310, 't0', 'interactive', 118],
      ['j40', 836, 't0', 'standard', 65],
      ['j43', 543, 't2', 'standard', 122],
      ['j46', 408, 't1', 'standard', 142],
      ['j50', 220, 't0', 'interactive', 109],
      ['j52', 1192, 't2', 'standard', 187],
      ['j55', 359, 't1', 'standard', 171],
      ['j56', 240, 't1', 'standard', 173],
      ['j61', 260, 't0', 'interactive', 97],
      ['j65', 360, 't0', 'interactive', 64],
      ['j67', 200, 't0', 'standard', 184],
      ['j72', 50, 't1', 'standard', 70],
      ['j80', 280, 't0', 'interactive', 138],
    ]);
    const { schedule, ideal } = run(config, trace);
    const others = checkTierFinishBound(
      schedule.filter((job) => job.tenant !== 't0'),
      ideal,
      config,
    );
    expect(others.over.map((job) => job.id)).toContain('j52');
  });

  it('holds for two light tenants arriving behind a lane of long jobs (their jobs side by side in GPS)', () => {
    // Found by CI's random run of the property below (seed -160412992, shrunk): all interactive on
    // 2 slots. t2's 86 ms and t0's 127 ms jobs start at 0; t3 (weight 4) and t1 (weight 3) arrive
    // at 20 with 209 and 111 ms of work. The fluid ideal shares the two slots among all of them at
    // once, t3's four jobs side by side; the lane-serial reference served t3's lane one job after
    // another, and one job finished 1.008 L_max past fluid + L_max (2 L_max past the ideal). The
    // per-job reference, like the clairvoyant order, keeps every job within the bound.
    const config: SimulationConfig = {
      tiers: { interactive: { slots: 2 }, standard: { slots: 4, lendTo: [] }, heavy: { slots: 3 } },
      tenants: { t0: { weight: 2 }, t1: { weight: 3 }, t2: { weight: 1 }, t3: { weight: 4 }, t4: { weight: 2 }, t5: { weight: 4 } },
      defaults: {},
    };
    const trace = traceOf([
      ['j0', 10, 't0', 'interactive', 1],
      ['j1', 0, 't2', 'interactive', 86],
      ['j2', 20, 't3', 'interactive', 25],
      ['j3', 0, 't0', 'interactive', 127],
      ['j4', 20, 't3', 'interactive', 47],
      ['j5', 20, 't3', 'interactive', 29],
      ['j6', 20, 't1', 'interactive', 111],
      ['j7', 20, 't3', 'interactive', 108],
      ['j8', 0, 't0', 'interactive', 1],
    ]);
    const { schedule, ideal } = run(config, trace);
    expect(checkTierFinishBound(schedule, ideal, config).jobsOverBound).toBe(0);
    const clairvoyant = runSimulation(trace, new ClairvoyantPolicy(config, ideal)).schedule;
    expect(checkTierFinishBound(clairvoyant, ideal, config).jobsOverBound).toBe(0);
  });

  it('known limit: with lending, even the clairvoyant order (the ideal of the whole trace) finishes a job past GPS + L_max', () => {
    // Found by `bench:fairness -- --random` (three tiers, lending, no caps). Standard lends its three
    // slots to interactive while it is idle; t0's interactive jobs of 184 and 106 ms take them at
    // 100-122, so standard work arriving at 130 waits for them. The fluid ideal has no lending: it
    // finishes j13 at 209, and no order of the queued jobs (not even the one that knows the
    // future) gets it done by 209 + 184 (L_max of standard, its borrowers' jobs included). The
    // limit is lending's, not the clock's; Fairway's order stays within GPS + 2 L_max here too.
    const config: SimulationConfig = {
      tiers: { interactive: { slots: 1 }, standard: { slots: 3, lendTo: ['interactive'] }, heavy: { slots: 1 } },
      tenants: { t0: { weight: 4 }, t1: { weight: 5 } },
      defaults: {},
    };
    const trace = traceOf([
      ['j5', 0, 't0', 'standard', 100],
      ['j8', 0, 't0', 'standard', 101],
      ['j14', 0, 't0', 'interactive', 1],
      ['j7', 30, 't0', 'interactive', 36],
      ['j10', 30, 't0', 'interactive', 92],
      ['j12', 30, 't0', 'interactive', 184],
      ['j3', 40, 't1', 'interactive', 57],
      ['j6', 40, 't0', 'interactive', 106],
      ['j9', 40, 't0', 'interactive', 184],
      ['j1', 130, 't0', 'standard', 21],
      ['j4', 130, 't0', 'standard', 69],
      ['j13', 130, 't0', 'standard', 79],
      ['j0', 140, 't0', 'standard', 31],
      ['j2', 140, 't0', 'standard', 9],
      ['j11', 160, 't1', 'standard', 18],
    ]);
    const ideal = computeFluidIdeal(trace, config);
    const clairvoyant = runSimulation(trace, new ClairvoyantPolicy(config, ideal)).schedule;
    expect(checkTierFinishBound(clairvoyant, ideal, config).over.map((job) => job.id)).toEqual(['j13']);
    const { schedule } = run(config, trace);
    expect(worstExcessInLmax(schedule, ideal, config)).toBeLessThan(1);
  });

  it('holds for a job GPS finishes while its tenant runs alone, queued behind its own long job', () => {
    // Found by `bench:fairness -- --random 10000` (three tiers, lending, no caps; seed 20261209),
    // shrunk; the worst known limit of the lane-serial reference (2.67 L_max past in the unshrunk
    // trace). From 47.6 to 48.6 t1 is alone in standard: the fluid ideal runs j0 and j2 side by side
    // and finishes j2 (1 ms) at 48.6. The lane-serial reference left j2 behind j0's remaining 80-odd
    // ms at weight 1 once t0 and t2 arrived at 49-50, every one of their jobs went first and j2
    // finished 1.002 L_max past fluid + L_max. The per-job reference records j2's GPS finish.
    const config: SimulationConfig = {
      tiers: { interactive: { slots: 1 }, standard: { slots: 2, lendTo: ['interactive'] }, heavy: { slots: 3 } },
      tenants: { t0: { weight: 4 }, t1: { weight: 1 }, t2: { weight: 5 }, t3: { weight: 2 } },
      defaults: {},
    };
    const trace = traceOf([
      ['j0', 0, 't1', 'standard', 94],
      ['j1', 0, 't0', 'standard', 14],
      ['j6', 0, 't0', 'standard', 42],
      ['j7', 0, 't0', 'interactive', 43],
      ['j10', 0, 't0', 'interactive', 165],
      ['j12', 0, 't0', 'interactive', 1],
      ['j3', 10, 't0', 'standard', 20],
      ['j2', 43, 't1', 'standard', 1],
      ['j8', 49, 't2', 'standard', 165],
      ['j4', 50, 't0', 'standard', 126],
      ['j5', 50, 't0', 'standard', 85],
      ['j9', 50, 't0', 'standard', 45],
      ['j11', 50, 't0', 'standard', 1],
    ]);
    const { schedule, ideal } = run(config, trace);
    expect(checkTierFinishBound(schedule, ideal, config).jobsOverBound).toBe(0);
  });

  it('holds for a short job behind a long one of its lane that GPS finishes first: the lane takes its place from it', () => {
    // Found by `bench:fairness -- --random 10000` (three tiers, lending, no caps; seed 20261209),
    // shrunk, with the per-job reference keying a lane by its head job alone. t0's j3 (30 ms) queues
    // behind its own j28 (183 ms); GPS runs both side by side and finishes j3 at 110, j28 at 468.
    // Keyed by j28, t0's lane waited until every other standard job GPS finishes before 468 had
    // gone, and j3, which the lane must send after j28 (a tenant's jobs run in its own order),
    // started at 367: 0.43 L_max past fluid + L_max (197 ms). The lane now takes its place in the
    // tier from the earliest GPS finish among its waiting jobs, and sends its head for it.
    const config: SimulationConfig = {
      tiers: { interactive: { slots: 1 }, standard: { slots: 3, lendTo: ['interactive'] }, heavy: { slots: 2 } },
      tenants: { t0: { weight: 1 }, t1: { weight: 4 }, t2: { weight: 4 }, t3: { weight: 4 }, t4: { weight: 1 }, t6: { weight: 1 } },
      defaults: {},
    };
    const trace = traceOf([
      ['j16', 10, 't6', 'interactive', 101],
      ['j10', 20, 't4', 'interactive', 197],
      ['j74', 30, 't6', 'interactive', 82],
      ['j41', 52, 't3', 'interactive', 192],
      ['j28', 60, 't0', 'standard', 183],
      ['j3', 80, 't0', 'standard', 30],
      ['j30', 109, 't4', 'standard', 62],
      ['j4', 120, 't2', 'standard', 169],
      ['j71', 150, 't1', 'standard', 80],
      ['j75', 210, 't2', 'standard', 118],
      ['j78', 210, 't4', 'standard', 113],
      ['j9', 240, 't3', 'standard', 118],
    ]);
    const { schedule, ideal } = run(config, trace);
    expect(checkTierFinishBound(schedule, ideal, config).jobsOverBound).toBe(0);
  });

  it('holds when a lane whose next job GPS has not begun waits for the lanes GPS serves (WF2Q eligibility), churn of 10,000 tenants', () => {
    // bench:fairness's tenant-churn-10k (first 8.5 s of it): two background tenants with 500 jobs of
    // 50 ms each, visitors with two 5 ms jobs arriving over 20 s, 8 slots. Keyed by the GPS finish
    // projected at the current rates, a background lane whose next job GPS had not begun (GPS ran
    // its earlier jobs, the real system had started them all) looked due soon whenever few visitors
    // were present, ran ahead of them, and left 2 of bg1's jobs 1.8 ms past GPS + L_max (the
    // clairvoyant order: none). Such lanes now go after every lane whose head GPS has begun.
    const random = seededRandom(4);
    const rows: Array<[string, number, string, string, number]> = [];
    for (const tenant of ['bg0', 'bg1']) for (let k = 0; k < 500; k++) rows.push([`${tenant}-${k}`, 0, tenant, 'default', 50]);
    for (let i = 0; i < 10_000; i++) {
      const arrival = Math.floor(random() * 20_000);
      const second = arrival + Math.floor(random() * 50);
      if (arrival < 8500) rows.push([`visitor${i}-0`, arrival, `visitor${i}`, 'default', 5]);
      if (second < 8500) rows.push([`visitor${i}-1`, second, `visitor${i}`, 'default', 5]);
    }
    const config: SimulationConfig = { tiers: { default: { slots: 8 } }, tenants: {}, defaults: {} };
    const { schedule, ideal } = run(config, traceOf(rows));
    expect(checkTierFinishBound(schedule, ideal, config).jobsOverBound).toBe(0);
  });

  it('holds when the next job of a lane is one GPS had half done before others took its slot (eligible by its GPS start)', () => {
    // Found by `bench:fairness -- --random 10000` (three tiers, lending, no caps), shrunk, with the
    // eligibility rule first written as "GPS serves the head now": t1's j61 waited behind t0's j52
    // although GPS had begun j61 first (it lost its slot when j52 arrived) and finishes it earlier;
    // j61 finished 4 ms past GPS + L_max. A job stays eligible once GPS has begun it.
    const config: SimulationConfig = {
      tiers: { interactive: { slots: 1 }, standard: { slots: 2, lendTo: ['interactive'] }, heavy: { slots: 1 } },
      tenants: { t0: { weight: 3 }, t1: { weight: 3 } },
      defaults: {},
    };
    const trace = traceOf([
      ['j15', 0, 't1', 'standard', 168],
      ['j21', 10, 't0', 'standard', 180],
      ['j33', 10, 't1', 'interactive', 127],
      ['j62', 10, 't1', 'interactive', 49],
      ['j26', 20, 't0', 'standard', 14],
      ['j2', 30, 't1', 'standard', 62],
      ['j17', 80, 't1', 'interactive', 37],
      ['j71', 100, 't0', 'interactive', 31],
      ['j6', 130, 't0', 'interactive', 177],
      ['j14', 140, 't0', 'interactive', 138],
      ['j74', 140, 't1', 'interactive', 46],
      ['j45', 150, 't1', 'standard', 36],
      ['j43', 180, 't0', 'interactive', 28],
      ['j63', 180, 't0', 'standard', 89],
      ['j73', 210, 't1', 'interactive', 126],
      ['j57', 230, 't0', 'standard', 171],
      ['j55', 270, 't1', 'standard', 197],
      ['j25', 330, 't1', 'interactive', 138],
      ['j51', 330, 't1', 'interactive', 158],
      ['j37', 340, 't1', 'standard', 130],
      ['j70', 360, 't1', 'interactive', 121],
      ['j16', 367, 't1', 'interactive', 124],
      ['j12', 381, 't1', 'standard', 126],
      ['j11', 390, 't0', 'standard', 125],
      ['j72', 400, 't0', 'standard', 145],
      ['j66', 558, 't1', 'interactive', 198],
      ['j7', 561, 't0', 'interactive', 126],
      ['j77', 631, 't1', 'interactive', 149],
      ['j31', 720, 't0', 'standard', 59],
      ['j38', 745, 't0', 'standard', 31],
      ['j5', 792, 't0', 'interactive', 110],
      ['j40', 909, 't0', 'standard', 152],
      ['j39', 913, 't0', 'standard', 6],
      ['j24', 954, 't1', 'standard', 113],
      ['j18', 1097, 't1', 'standard', 88],
      ['j64', 1110, 't0', 'interactive', 188],
      ['j35', 1234, 't0', 'standard', 181],
      ['j65', 1241, 't1', 'standard', 64],
      ['j67', 1281, 't1', 'standard', 58],
      ['j36', 1362, 't1', 'standard', 192],
      ['j20', 1367, 't1', 'standard', 124],
      ['j9', 1455, 't1', 'standard', 192],
      ['j41', 1489, 't0', 'standard', 136],
      ['j61', 1586, 't1', 'standard', 151],
      ['j52', 1734, 't0', 'standard', 198],
    ]);
    const { schedule, ideal } = run(config, trace);
    expect(checkTierFinishBound(schedule, ideal, config).jobsOverBound).toBe(0);
  });

  it('holds for a lender whose slots long borrowed jobs hold when its own work arrives: a lane sends the job GPS finishes first', () => {
    // Found by `bench:fairness -- --random 10000` (three tiers, lending, no caps; seed 20261209,
    // trace 6925), shrunk. t4's j79 (153 ms) and t1's j63 (200 ms) borrow two of standard's three
    // slots at 173-182 while standard is idle, and the standard work arriving from 188 on has one
    // slot until they finish. The clairvoyant order borrows the same slots at the same times: what
    // it does differently is at 302, where it sends t2's j14 (122 ms, GPS finish 329) before t2's
    // j67 (167 ms, arrived 10 ms earlier, GPS finish 357). Fairway sent the lane's head, j67, and
    // t5's j53 finished 6 ms (0.03 L_max) past fluid + L_max. A lane GPS serves below its demand now
    // sends its job GPS finishes first (`FairScheduler.takeNext`), and j53 is 9 ms inside.
    const config: SimulationConfig = {
      tiers: { interactive: { slots: 1 }, standard: { slots: 3, lendTo: ['interactive'] }, heavy: { slots: 3 } },
      tenants: { t0: { weight: 4 }, t1: { weight: 5 }, t2: { weight: 4 }, t3: { weight: 3 }, t4: { weight: 1 }, t5: { weight: 2 } },
      defaults: {},
    };
    const trace = traceOf([
      ['j46', 0, 't5', 'standard', 167],
      ['j21', 10, 't2', 'standard', 172],
      ['j55', 50, 't0', 'interactive', 103],
      ['j45', 90, 't4', 'standard', 182],
      ['j79', 100, 't4', 'interactive', 153],
      ['j63', 110, 't1', 'interactive', 200],
      ['j31', 120, 't0', 'interactive', 50],
      ['j54', 150, 't4', 'standard', 6],
      ['j26', 188, 't0', 'standard', 30],
      ['j67', 190, 't2', 'standard', 167],
      ['j14', 200, 't2', 'standard', 122],
      ['j72', 240, 't2', 'standard', 196],
      ['j7', 329, 't2', 'standard', 102],
      ['j13', 340, 't4', 'standard', 5],
      ['j23', 340, 't3', 'standard', 135],
      ['j53', 340, 't5', 'standard', 188],
      ['j58', 350, 't2', 'standard', 74],
      ['j29', 365, 't4', 'standard', 63],
      ['j68', 400, 't1', 'standard', 109],
    ]);
    const { schedule, ideal } = run(config, trace);
    expect(checkTierFinishBound(schedule, ideal, config).jobsOverBound).toBe(0);
    expect(schedule.filter((job) => job.jobClass === 'interactive' && job.tier === 'standard').map((job) => job.id)).toEqual(
      expect.arrayContaining(['j63', 'j79']),
    );
    const started = (id: string): number => (schedule.find((job) => job.id === id) as ScheduledJob).start;
    expect(started('j14')).toBeLessThan(started('j67'));
  });

  it('holds for a lender whose two slots long borrowed jobs hold, with the leader taken after settling', () => {
    // The other trace of 10,000 (same search), shrunk: t2's j81 (190 ms) and t3's j42 (199 ms)
    // borrow both standard slots at 912-927; t3's j2 and j63 arrive at 956-960 and wait for them.
    // j63 finished 1 ms past fluid + L_max (200 ms) while a tier's leader was read before settling
    // its clock, and settling can turn a sparse tier dense (its lanes move to the real-time heaps,
    // so the lane read first was not the leader any more). Read after settling, it stays inside.
    const config: SimulationConfig = {
      tiers: { interactive: { slots: 1 }, standard: { slots: 2, lendTo: ['interactive'] }, heavy: { slots: 2 } },
      tenants: { t0: { weight: 5 }, t1: { weight: 1 }, t2: { weight: 1 }, t3: { weight: 1 } },
      defaults: {},
    };
    const trace = traceOf([
      ['j13', 0, 't3', 'interactive', 128],
      ['j72', 0, 't2', 'standard', 51],
      ['j92', 0, 't0', 'standard', 200],
      ['j62', 20, 't2', 'standard', 98],
      ['j84', 40, 't2', 'interactive', 130],
      ['j56', 50, 't1', 'standard', 57],
      ['j9', 70, 't1', 'standard', 26],
      ['j54', 80, 't0', 'interactive', 191],
      ['j25', 90, 't1', 'interactive', 110],
      ['j68', 90, 't2', 'interactive', 37],
      ['j76', 90, 't3', 'standard', 147],
      ['j82', 90, 't3', 'interactive', 112],
      ['j95', 90, 't1', 'standard', 56],
      ['j27', 100, 't0', 'interactive', 79],
      ['j81', 100, 't2', 'interactive', 190],
      ['j42', 120, 't3', 'interactive', 199],
      ['j97', 130, 't0', 'standard', 12],
      ['j16', 160, 't0', 'standard', 174],
      ['j46', 200, 't1', 'interactive', 165],
      ['j47', 241, 't2', 'standard', 131],
      ['j30', 280, 't1', 'interactive', 45],
      ['j44', 320, 't0', 'interactive', 40],
      ['j75', 360, 't0', 'standard', 102],
      ['j23', 380, 't0', 'interactive', 96],
      ['j51', 380, 't3', 'standard', 191],
      ['j26', 390, 't2', 'standard', 143],
      ['j32', 432, 't0', 'standard', 170],
      ['j85', 712, 't2', 'standard', 124],
      ['j2', 956, 't3', 'standard', 59],
      ['j63', 960, 't3', 'standard', 196],
      ['j24', 1048, 't2', 'standard', 78],
    ]);
    const { schedule, ideal } = run(config, trace);
    expect(checkTierFinishBound(schedule, ideal, config).jobsOverBound).toBe(0);
  });

  it('holds for capped tenants lending and borrowing: a capped lane keeps its order (random search, seed 20261208, trace 5851)', () => {
    // Sending a level-limited lane's job GPS finishes first from a capped lane too put t1's j7 6 ms
    // (0.03 L_max) past fluid + L_max here, as the clairvoyant order does; the rule applies to
    // uncapped lanes only (a cap limits the tenant's jobs at once in both systems, like a lane GPS
    // serves at its full demand), and Fairway stays inside.
    const config: SimulationConfig = {
      tiers: { interactive: { slots: 1 }, standard: { slots: 2, lendTo: ['interactive'] }, heavy: { slots: 3 } },
      tenants: { t0: { weight: 1, maxInFlight: 3 }, t1: { weight: 2, maxInFlight: 4 }, t2: { weight: 3, maxInFlight: 3 } },
      defaults: {},
    };
    const trace = traceOf([
      ['j0', 596, 't0', 'interactive', 31],
      ['j1', 340, 't2', 'heavy', 159],
      ['j2', 1274, 't2', 'heavy', 50],
      ['j3', 300, 't0', 'interactive', 149],
      ['j4', 230, 't1', 'standard', 39],
      ['j5', 1001, 't0', 'interactive', 63],
      ['j6', 254, 't1', 'standard', 93],
      ['j7', 130, 't1', 'standard', 178],
      ['j8', 1956, 't1', 'standard', 97],
      ['j9', 390, 't1', 'standard', 121],
      ['j10', 1739, 't0', 'interactive', 70],
      ['j11', 1216, 't1', 'standard', 18],
      ['j12', 477, 't1', 'standard', 71],
      ['j13', 231, 't1', 'standard', 16],
      ['j14', 1137, 't1', 'standard', 150],
      ['j15', 260, 't2', 'heavy', 124],
      ['j16', 1733, 't0', 'interactive', 123],
      ['j17', 120, 't0', 'interactive', 78],
      ['j18', 125, 't2', 'heavy', 178],
      ['j19', 1505, 't0', 'interactive', 78],
      ['j20', 120, 't0', 'interactive', 154],
      ['j21', 280, 't2', 'heavy', 69],
      ['j22', 160, 't1', 'standard', 39],
      ['j23', 270, 't0', 'interactive', 55],
      ['j24', 1387, 't0', 'interactive', 156],
      ['j25', 1015, 't2', 'heavy', 23],
      ['j26', 50, 't0', 'interactive', 42],
      ['j27', 260, 't0', 'interactive', 155],
      ['j28', 310, 't1', 'standard', 24],
      ['j29', 340, 't0', 'interactive', 28],
      ['j30', 16, 't2', 'heavy', 73],
      ['j31', 1016, 't1', 'standard', 131],
      ['j32', 1999, 't2', 'heavy', 71],
      ['j33', 30, 't0', 'interactive', 36],
      ['j34', 30, 't1', 'standard', 40],
      ['j35', 66, 't0', 'interactive', 21],
      ['j36', 160, 't0', 'interactive', 159],
      ['j37', 270, 't1', 'standard', 94],
      ['j38', 1670, 't2', 'heavy', 97],
      ['j39', 260, 't1', 'standard', 131],
      ['j40', 1815, 't2', 'heavy', 54],
      ['j41', 120, 't0', 'interactive', 198],
    ]);
    const { schedule, ideal } = run(config, trace);
    expect(checkTierFinishBound(schedule, ideal, config).jobsOverBound).toBe(0);
    const clairvoyant = runSimulation(trace, new ClairvoyantPolicy(config, ideal)).schedule;
    expect(checkTierFinishBound(clairvoyant, ideal, config).over.map((job) => job.id)).toEqual(['j7']);
  });

  it("known limit: two long borrowed jobs hold both of a lender's slots when its own work arrives (random search, seed 20261210, trace 5460)", () => {
    // The one trace of 10,000 in the misestimate shape over the bound under misestimates; nothing
    // here is misestimated by more than 1 ms (t4's j9). t3's j5 (158 ms) and j8 (195 ms) borrow
    // both of standard's slots at 161 and 166, while standard has nothing queued; t1's standard
    // jobs arrive from 185 and wait for them, and j6 finishes 15 ms (0.075 L_max) past fluid +
    // L_max. The clairvoyant order makes the same choices. Lending them the other way round (j8
    // first) would have let j6 through, so this is not a trace no order passes: it is lending's
    // limit (L_max of a lender counts one borrowed job, not a slot-full), and GPS + 2 L_max is what
    // the lending property asserts.
    const config: SimulationConfig = {
      tiers: { interactive: { slots: 1 }, standard: { slots: 2, lendTo: ['interactive'] }, heavy: { slots: 2 } },
      tenants: {
        t0: { weight: 2, maxInFlight: 1 },
        t1: { weight: 3, maxInFlight: 3 },
        t2: { weight: 3, maxInFlight: 3 },
        t3: { weight: 3 },
        t4: { weight: 3, maxInFlight: 4 },
      },
      defaults: {},
    };
    const trace: TraceJob[] = (
      [
        ['j0', 70, 't4', 'standard', 91],
        ['j1', 40, 't3', 'interactive', 126],
        ['j2', 14, 't0', 'interactive', 118],
        ['j3', 1573, 't2', 'heavy', 128],
        ['j4', 340, 't0', 'interactive', 188],
        ['j5', 110, 't3', 'interactive', 158],
        ['j6', 190, 't1', 'standard', 153],
        ['j7', 370, 't1', 'standard', 156],
        ['j8', 150, 't3', 'interactive', 195],
        ['j9', 527, 't4', 'standard', 92, 93],
        ['j10', 60, 't0', 'interactive', 60],
        ['j11', 370, 't2', 'heavy', 71],
        ['j12', 240, 't3', 'interactive', 39],
        ['j13', 1830, 't4', 'standard', 193],
        ['j14', 1664, 't0', 'interactive', 119],
        ['j15', 1615, 't2', 'heavy', 43],
        ['j16', 60, 't0', 'interactive', 175],
        ['j17', 360, 't0', 'interactive', 26],
        ['j18', 185, 't1', 'standard', 90],
        ['j19', 270, 't4', 'standard', 58],
        ['j20', 506, 't4', 'standard', 100],
        ['j21', 1435, 't2', 'heavy', 30],
        ['j22', 691, 't0', 'interactive', 130],
        ['j23', 230, 't0', 'interactive', 109],
        ['j24', 90, 't0', 'interactive', 199],
        ['j25', 330, 't1', 'standard', 40],
        ['j26', 1939, 't3', 'standard', 153],
      ] as Array<[string, number, string, string, number, number?]>
    ).map(([id, t, tenant, jobClass, cost, estimate]) => ({ id, t, tenant, jobClass, cost, estimate: estimate ?? cost, priority: 0 }));
    const { schedule, ideal } = run(config, trace);
    const estimatedIdeal = computeFluidIdeal(
      trace.map((job) => ({ ...job, cost: job.estimate })),
      config,
    );
    const bound = checkMisestimateBound(schedule, trace, estimatedIdeal, config, (job) => job.tenant !== 't4');
    expect(bound.over.map((job) => job.id)).toEqual(['j6']);
    expect(bound.worstExcessLmax).toBeLessThan(0.1);
    const borrowed = schedule.filter((job) => job.jobClass === 'interactive' && job.tier === 'standard').map((job) => job.id);
    expect(borrowed).toEqual(expect.arrayContaining(['j5', 'j8']));
    const clairvoyant = runSimulation(trace, new ClairvoyantPolicy(config, ideal)).schedule;
    expect(checkTierFinishBound(clairvoyant, ideal, config).over.map((job) => job.id)).toEqual(['j6']);
  });

  it("known limit: tenants that underestimate their jobs put an exact estimator's job past GPS + L_max", () => {
    // Found by `bench:fairness -- --random 10000` (caps, three tiers, misestimating x4; seed
    // 20261210), shrunk to three jobs on heavy's one slot; the same trace and excess as before the
    // per-job reference. t3 estimates j9 at 49 ms (it takes 196) and t4 j48 at 48 (193): by the
    // estimates GPS finishes them before t2's exact j68, so they go first, and j68 finishes 72 ms
    // (0.37 L_max) past its fluid finish (real costs) + L_max. The clairvoyant order knows the real
    // costs; the reference cannot (docs/scheduling.md, "what breaks the bound").
    const config: SimulationConfig = {
      tiers: { interactive: { slots: 2 }, standard: { slots: 2, lendTo: [] }, heavy: { slots: 1 } },
      tenants: { t2: { weight: 3 }, t3: { weight: 3 }, t4: { weight: 3 } },
      defaults: {},
    };
    const trace: TraceJob[] = [
      { id: 'j68', t: 10, tenant: 't2', jobClass: 'heavy', cost: 68, estimate: 68, priority: 0 },
      { id: 'j9', t: 10, tenant: 't3', jobClass: 'heavy', cost: 196, estimate: 49, priority: 0 },
      { id: 'j48', t: 40, tenant: 't4', jobClass: 'heavy', cost: 193, estimate: 48, priority: 0 },
    ];
    const { schedule, ideal } = run(config, trace);
    const bound = checkTierFinishBound(schedule, ideal, config);
    expect(bound.over.map((job) => job.id)).toEqual(['j68']);
    expect(bound.worstExcessMs).toBeCloseTo(72, 6);
    // Within the bound under misestimates: the fluid ideal of the estimates finishes j68 at 175,
    // and j9 and j48 started before it underestimated by 147 + 145 ms (L_max 196).
    const estimatedIdeal = computeFluidIdeal(
      trace.map((job) => ({ ...job, cost: job.estimate })),
      config,
    );
    expect(checkMisestimateBound(schedule, trace, estimatedIdeal, config, (job) => job.tenant === 't2').jobsOverBound).toBe(0);
    const clairvoyant = runSimulation(trace, new ClairvoyantPolicy(config, ideal)).schedule;
    expect(checkTierFinishBound(clairvoyant, ideal, config).jobsOverBound).toBe(0);
  });

  it('finishes every job within its water-filled GPS finish + L_max: caps or not, one tier or three (lending with caps), weights', () => {
    // bench:fairness -- --random 10000 (docs/scheduling.md): 0 traces of 10,000 over GPS + L_max in
    // each of these shapes since the per-job reference (before it: up to 6, the worst 2.67 L_max
    // past). The three tiers without caps are drawn here without lending: with it see below.
    const lends = (config: SimulationConfig): boolean => (config.tiers['standard']?.lendTo ?? []).length > 0;
    const shapes = fc.oneof(
      randomQuotaScenario({ caps: true, tiers: true, misestimate: 1, maxJobs: 100 }),
      randomQuotaScenario({ caps: true, tiers: false, misestimate: 1, maxJobs: 100 }),
      randomQuotaScenario({ caps: false, tiers: false, misestimate: 1, maxJobs: 100 }),
      randomQuotaScenario({ caps: false, tiers: true, misestimate: 1, maxJobs: 100 }).filter(({ config }) => !lends(config)),
    );
    fc.assert(
      fc.property(shapes, ({ config, trace }) => {
        const { schedule, ideal } = run(config, trace);
        expect(checkTierFinishBound(schedule, ideal, config).jobsOverBound).toBe(0);
      }),
      // A fixed seed: CI runs the same traces every time; the sweep of 10,000 per shape is the bench's.
      { numRuns: 600, seed: 20261206 },
    );
  });

  it('finishes every job within its water-filled GPS finish + 2 L_max with lending and no caps', () => {
    // Lending is outside the fluid ideal: 1 trace of 10,000 past GPS + L_max (0.03 L_max, the
    // known-limit test above), none near 2 L_max, which is what is asserted.
    const lends = (config: SimulationConfig): boolean => (config.tiers['standard']?.lendTo ?? []).length > 0;
    const shapes = randomQuotaScenario({ caps: false, tiers: true, misestimate: 1, maxJobs: 100 }).filter(({ config }) => lends(config));
    fc.assert(
      fc.property(shapes, ({ config, trace }) => {
        const { schedule, ideal } = run(config, trace);
        expect(worstExcessInLmax(schedule, ideal, config)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200, seed: 20261206 },
    );
  });

  it('keeps tenants with exact estimates within GPS + 2 L_max when others misestimate by up to x4 either way', () => {
    // Misestimating tenants themselves get no bound: a job estimated 4x too high waits as if it
    // were that long (docs/scheduling.md, "what breaks the bound").
    const shapes = fc.oneof(
      randomQuotaScenario({ caps: true, tiers: true, misestimate: 4, maxJobs: 100 }),
      randomQuotaScenario({ caps: true, tiers: false, misestimate: 4, maxJobs: 100 }),
    );
    fc.assert(
      fc.property(shapes, ({ config, trace, misestimating }) => {
        const { schedule, ideal } = run(config, trace);
        expect(worstExcessInLmax(schedule, ideal, config, (job) => !misestimating.has(job.tenant))).toBeLessThanOrEqual(1);
      }),
      { numRuns: 400, seed: 20261206 },
    );
  });
});
