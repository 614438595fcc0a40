import { Option, type Command } from 'commander';
import { keyValues } from '../render';
import { renderTopFrame, TOP_SORT_KEYS, type CapacityView, type TenantStatsRow, type TopSortKey, type TopTotals } from '../top';
import { durationMs, positiveInteger, type CommandContext } from './context';

/** The most rows the admin API ranks in one answer (`GET /admin/v1/stats?sort=&limit=`, 1-1000). */
const MAX_TOP_ROWS = 1000;

const sleep = (ms: number, interrupted?: Promise<void>) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    void interrupted?.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });

/** `top` and `explain`: the scheduler's live view of the tenants. */
export function schedulerCommands(program: Command, { io, sub, client, print, globals }: CommandContext): void {
  sub(program, 'top', "live table of tenants (queue depth, in flight, wait p99, share vs entitlement) and the workers' capacity in use")
    .option('--once', 'print one frame and exit')
    .option('--interval <duration>', 'refresh interval, e.g. 2s', durationMs, 2_000)
    .addOption(new Option('--sort <key>', 'sort by').choices(TOP_SORT_KEYS).default('queued'))
    .option('--limit <n>', 'show at most n tenants (the server ranks up to 1000)', positiveInteger, 20)
    .action(async (o: { once?: boolean; interval: number; sort: TopSortKey; limit: number }, cmd: Command) => {
      const api = client(cmd);
      let stop = false;
      void io.interrupted?.then(() => (stop = true));
      do {
        // One answer a frame (#18): the server ranks the fleet by the sort key and sends the rows
        // shown and the totals, however many tenants there are (before, a frame read every page
        // of the fleet: 100 round trips at 50,000 tenants).
        const query = new URLSearchParams({ sort: o.sort, limit: String(Math.min(o.limit, MAX_TOP_ROWS)) });
        const answer = await api.request<{ tenants?: TenantStatsRow[]; totals?: TopTotals | null; capacity?: CapacityView; replica?: string }>(
          'GET',
          `/stats?${query.toString()}`,
        );
        const rows = answer.tenants ?? [];
        const totals = answer.totals ?? undefined;
        const at = new Date();
        if (globals(cmd).json) {
          io.out(JSON.stringify({ at: at.toISOString(), replica: answer.replica, totals, tenants: rows, capacity: answer.capacity }));
        } else {
          const frame = renderTopFrame(rows, { sort: o.sort, limit: o.limit, at, capacity: answer.capacity, totals });
          io.out(io.isTTY && !o.once ? `\x1b[2J\x1b[H${frame}\n\n(refreshing every ${o.interval / 1000}s; Ctrl-C to quit)` : frame);
        }
        if (o.once) return;
        await sleep(o.interval, io.interrupted);
      } while (!stop);
    });

  sub(program, 'explain', 'why a tenant is (not) running: the scheduler explains its state')
    .argument('<tenant>', 'tenant id')
    .action(async (id: string, _o, cmd: Command) => {
      const e = await client(cmd).request<{ tenantId: string; state: string; reason: string; details: unknown }>(
        'GET',
        `/tenants/${encodeURIComponent(id)}/explain`,
      );
      print(cmd, e, () => {
        const details = e.details && typeof e.details === 'object' ? Object.entries(e.details as Record<string, unknown>) : [];
        return keyValues([['tenant', e.tenantId], ['state', e.state], ['reason', e.reason], ...details.map(([k, v]) => [`  ${k}`, v] as const)]);
      });
    });
}
