import type { FleetReading, TenantFleetStats } from '@fairway/job-store';
import type { QuotaRow } from './job-store';
import { FleetStatsView, type FleetSource } from './tenant-stats-view';

const line = (tenantId: string, s: Partial<TenantFleetStats>): TenantFleetStats => ({
  tenantId,
  queued: 0,
  running: 0,
  waitP50Ms: 0,
  waitP99Ms: 0,
  serviceMs: 0,
  dispatched: 0,
  ...s,
});

/** A catalog of `ids` and the busy lines of `busy`, counting the readings asked of it. */
function source(ids: string[], busy: TenantFleetStats[], quotas: Array<Pick<QuotaRow, 'tenantId' | 'weight'>> = []) {
  const state = { ids, busy, readings: 0, fail: false, hold: undefined as Promise<void> | undefined };
  const src: FleetSource = {
    reading: async (): Promise<FleetReading> => {
      state.readings += 1;
      await state.hold;
      if (state.fail) throw new Error('database down');
      return { tenants: state.ids.length, busy: state.busy };
    },
    tenantIds: async (after, limit) => {
      const rest = [...state.ids].sort().filter((id) => after === undefined || id > after);
      return limit === undefined ? rest : rest.slice(0, limit);
    },
    loadQuotas: async () => quotas as QuotaRow[],
  };
  return { src, state };
}

const ids = Array.from({ length: 50 }, (_, i) => `t-${String(i).padStart(2, '0')}`);

describe('FleetStatsView', () => {
  it('ranks the busy tenants by each key, ties by id, and counts the whole fleet', async () => {
    const { src } = source(ids, [
      line('t-07', { queued: 9, running: 1, serviceMs: 100, waitP99Ms: 5 }),
      line('t-03', { queued: 9, running: 2, serviceMs: 300, waitP99Ms: 50 }),
      line('t-40', { queued: 1, running: 4, serviceMs: 600, waitP99Ms: 7 }),
    ]);
    const view = new FleetStatsView(src);
    const top = async (sort: Parameters<FleetStatsView['top']>[0]) => (await view.top(sort, 2)).lines.map((l) => l.tenantId);
    expect(await top('queued')).toEqual(['t-03', 't-07']);
    expect(await top('in-flight')).toEqual(['t-40', 't-03']);
    expect(await top('wait-p99')).toEqual(['t-03', 't-40']);
    expect(await top('share')).toEqual(['t-40', 't-03']);
    expect(await top('tenant')).toEqual(['t-00', 't-01']);
    const { lines, snapshot } = await view.top('share', 1);
    expect(lines[0]).toMatchObject({ tenantId: 't-40', share: 0.6, entitlement: 1 / 3, inFlight: 4 });
    expect(snapshot.totals).toEqual({ tenants: 50, queued: 19, inFlight: 7, busy: 3 });
  });

  it('tops up with idle tenants by id when fewer tenants are busy than rows asked', async () => {
    const { src } = source(ids, [line('t-30', { queued: 2 }), line('t-10', { dispatched: 1 })]);
    const view = new FleetStatsView(src);
    // t-10 has dispatched but nothing queued: it ties with the idle tenants at 0 and ranks among them by id.
    expect((await view.top('queued', 5)).lines.map((l) => l.tenantId)).toEqual(['t-30', 't-00', 't-01', 't-02', 't-03']);
    expect((await view.top('queued', 60)).lines).toHaveLength(50);
  });

  it('pages by id, filling each tenant from the reading (idle ones with zeros and their quota weight)', async () => {
    const { src } = source(ids, [line('t-02', { queued: 3 })], [{ tenantId: 't-01', weight: 4 }]);
    const view = new FleetStatsView(src);
    const first = await view.page(undefined, 3);
    expect(first.more).toBe(true);
    expect(first.lines.map((l) => [l.tenantId, l.queued, l.weight])).toEqual([
      ['t-00', 0, 1],
      ['t-01', 0, 4],
      ['t-02', 3, 1],
    ]);
    const last = await view.page('t-47', 3);
    expect(last.more).toBe(false);
    expect(last.lines.map((l) => l.tenantId)).toEqual(['t-48', 't-49']);
    expect((await view.page(undefined, undefined)).lines).toHaveLength(50);
  });

  it('reads the fleet once for many callers, serves an aging reading while the next is read, and waits only when it is too old', async () => {
    let now = 0;
    const { src, state } = source(ids, [line('t-01', { queued: 1 })]);
    const view = new FleetStatsView(src, { freshMs: 1_000, staleMs: 5_000, now: () => now });
    await Promise.all([view.top('queued', 1), view.page(undefined, 10), view.top('share', 3)]);
    expect(state.readings).toBe(1);
    now = 1_500;
    state.busy = [line('t-01', { queued: 7 })];
    let release!: () => void;
    state.hold = new Promise((resolve) => (release = resolve));
    // Aged but not stale: answered at once from the old reading while the next one is read.
    expect((await view.top('queued', 1)).lines[0]?.queued).toBe(1);
    expect(state.readings).toBe(2);
    release();
    // The background read settles within the turns of promise callbacks before the next macrotask.
    await new Promise((resolve) => setImmediate(resolve));
    now = 1_600;
    expect((await view.top('queued', 1)).lines[0]?.queued).toBe(7);
    // Past staleMs a caller waits for a new reading; a failed one is not kept.
    now = 10_000;
    state.hold = undefined;
    state.fail = true;
    await expect(view.top('queued', 1)).rejects.toThrow('database down');
    state.fail = false;
    expect((await view.top('queued', 1)).lines[0]?.queued).toBe(7);
  });
});
