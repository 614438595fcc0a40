import { Option, type Command } from 'commander';
import { keyValues } from '../render';
import { renderTopFrame, TOP_SORT_KEYS, TopSelection, type CapacityView, type TenantStatsRow, type TopSortKey } from '../top';
import { durationMs, positiveInteger, type CommandContext } from './context';

/**
 * Tenants `top` reads a page at a time. At the admin API's most, 1000, a page took 114 ms (p99
 * 276 ms) at 50,000 tenants on a busy machine, past the 200 ms a page of #18.
 */
const TOP_STATS_PAGE = 500;

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
    .option('--limit <n>', 'show at most n tenants', positiveInteger, 20)
    .action(async (o: { once?: boolean; interval: number; sort: TopSortKey; limit: number }, cmd: Command) => {
      const api = client(cmd);
      let stop = false;
      void io.interrupted?.then(() => (stop = true));
      do {
        // Every page of the fleet, keeping the totals and the best `limit` rows (#18): a frame of
        // 50,000 tenants holds one page, and each answer stays small and fast.
        const selection = new TopSelection(o.sort, o.limit);
        let first: { capacity?: CapacityView; replica?: string } | undefined;
        for await (const page of api.pageBodies<{ tenants?: TenantStatsRow[]; capacity?: CapacityView; replica?: string }>('/stats', TOP_STATS_PAGE)) {
          first ??= page;
          selection.add(page.tenants ?? []);
        }
        const at = new Date();
        if (globals(cmd).json) {
          io.out(
            JSON.stringify({ at: at.toISOString(), replica: first?.replica, totals: selection.totals, tenants: selection.rows, capacity: first?.capacity }),
          );
        } else {
          const frame = renderTopFrame(selection.rows, { sort: o.sort, limit: o.limit, at, capacity: first?.capacity, totals: selection.totals });
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
