import type { AdminClient } from './admin-client';
import { CliError, ExitCode } from './exit-codes';
import { progressBar } from './render';
import type { CliIo } from './commands/context';

/** A migration run as the admin API reports it (POST then GET /admin/v1/migrations/{id}). */
export interface MigrationStatus {
  id: string;
  state: 'pending' | 'running' | 'succeeded' | 'failed';
  done: number;
  total: number;
  current?: string | null;
  error?: string | null;
}

/** The endpoint tenantctl expects; the data engineer's admin API adds it. */
export const MIGRATIONS_PATH = '/migrations';

/**
 * Starts a migration through the admin API and follows it to the end, drawing a progress bar on
 * stderr (redrawn in place on a terminal, one line a step otherwise; none under --json).
 * An admin API without the endpoint is reported as such, with exit code 5 (unavailable).
 */
export async function runMigration(
  api: AdminClient,
  options: { tenant?: string; dryRun?: boolean; poll: number; adminUrl: string; io: CliIo; json: boolean },
): Promise<MigrationStatus> {
  let status: MigrationStatus;
  try {
    status = await api.request<MigrationStatus>('POST', MIGRATIONS_PATH, {
      ...(options.tenant ? { tenant: options.tenant } : {}),
      ...(options.dryRun ? { dryRun: true } : {}),
    });
  } catch (err) {
    if (err instanceof CliError && err.exitCode === ExitCode.notFound && (err.code === 'ROUTE_NOT_FOUND' || err.code === undefined)) {
      throw new CliError(
        `the admin API at ${options.adminUrl} has no migration endpoint (POST /admin/v1${MIGRATIONS_PATH}): this edge cannot run tenant migrations yet. ` +
          'Migrate the shared catalog with `npm run infra` meanwhile.',
        ExitCode.unavailable,
        err.code,
      );
    }
    throw err;
  }
  let last = '';
  const draw = (s: MigrationStatus) => {
    if (options.json) return;
    const line = `${progressBar(s.done, s.total)} ${s.current ?? ''}`.trimEnd();
    if (line === last) return;
    last = line;
    options.io.err(options.io.isTTY ? `\x1b[1A\x1b[2K${line}` : line);
  };
  if (options.io.isTTY && !options.json) options.io.err('');
  draw(status);
  while (status.state === 'pending' || status.state === 'running') {
    await new Promise((resolve) => setTimeout(resolve, options.poll));
    status = await api.request<MigrationStatus>('GET', `${MIGRATIONS_PATH}/${encodeURIComponent(status.id)}`);
    draw(status);
  }
  return status;
}
