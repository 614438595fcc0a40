import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { FairwayError } from '@fairway/errors';
import { parseQuotaAssignments, readRecordedTrace, whatIfOnRecordedTrace, type WaitFigures, type WhatIfReport } from '@fairway/what-if';
import type { AdminClient } from './admin-client';
import type { CliIo } from './commands/context';
import { CliError, ExitCode } from './exit-codes';
import { duration, table } from './render';

/** What `trace export` asks for. */
export interface TraceExportOptions {
  since: string;
  until?: string;
  tenant?: string[];
}

/**
 * Writes the recorded trace of a window (GET /admin/v1/trace) to `io.out` line by line as it
 * arrives, waiting for the reader whenever stdout is full: constant memory however long the
 * window, and complete on a pipe. The last line must be the trace's end line; an answer cut
 * before it fails the command (exit 5), so a script never takes a cut trace for a whole one.
 */
export async function exportTrace(api: AdminClient, options: TraceExportOptions, io: CliIo): Promise<{ jobs: number }> {
  const query = new URLSearchParams({ since: options.since });
  if (options.until !== undefined) query.set('until', options.until);
  for (const tenant of options.tenant ?? []) query.append('tenant', tenant);
  let last = '';
  let jobs = 0;
  for await (const line of api.lines(`/trace?${query.toString()}`)) {
    if (line === '') continue;
    if (last !== '') jobs += 1;
    io.out(line);
    last = line;
    await io.drain?.();
  }
  let end: { kind?: unknown; jobs?: unknown } = {};
  try {
    end = JSON.parse(last) as typeof end;
  } catch {
    end = {};
  }
  if (end.kind !== 'end' || end.jobs !== jobs) {
    throw new CliError(`the trace was cut after ${jobs} job line(s): the admin API's answer ended without its end line`, ExitCode.unavailable);
  }
  return { jobs };
}

/**
 * `simulate --trace <recorded trace> [--set tenant:field=value ...]`: reads the trace a line at a
 * time, checks the changes with @fairway/quota's rules, and replays it (the fair core's simulator,
 * in this process) with the recorded and the proposed quotas.
 */
export async function simulateRecordedTrace(file: string, assignments: readonly string[]): Promise<WhatIfReport> {
  try {
    const changes = parseQuotaAssignments(assignments);
    const input = createReadStream(file, 'utf8');
    const opened = new Promise<void>((resolve, reject) => {
      input.once('open', () => resolve());
      input.once('error', reject);
    });
    try {
      await opened;
    } catch (err) {
      throw new CliError(`cannot read trace file '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, ExitCode.usage);
    }
    const trace = await readRecordedTrace(createInterface({ input, crlfDelay: Infinity }), file);
    return whatIfOnRecordedTrace(trace, changes);
  } catch (err) {
    if (err instanceof FairwayError) throw new CliError(err.message, ExitCode.usage, err.code);
    throw err;
  }
}

const p50p99 = (f: WaitFigures) => `${duration(f.waitP50Ms)} / ${duration(f.waitP99Ms)}`;

/** The report as operators read it: one line per tenant, waits as p50 / p99. */
export function whatIfText(report: WhatIfReport): string {
  const changed = Object.entries(report.changes).map(
    ([tenant, patch]) =>
      `${tenant}: ${[
        ...Object.entries(patch)
          .filter(([field, value]) => field !== 'clear' && value !== undefined)
          .map(([field, value]) => `${field}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`),
        ...patch.clear.map((field) => `${field}=unset`),
      ].join(' ')}`,
  );
  return [
    `${report.jobs} jobs from ${report.from} to ${report.to} on ${Object.entries(report.tiers)
      .map(([name, tier]) => `${name}:${tier.slots}`)
      .join(', ')}${report.unfinished > 0 ? ` (${report.unfinished} unfinished, left out)` : ''}`,
    `changes: ${changed.length > 0 ? changed.join('; ') : 'none'}`,
    '',
    table(report.tenants, [
      { header: 'TENANT', value: (t) => t.tenant },
      { header: 'JOBS', value: (t) => String(t.jobs), align: 'right' },
      { header: 'RECORDED p50 / p99', value: (t) => p50p99(t.recorded), align: 'right' },
      { header: 'SIMULATED', value: (t) => p50p99(t.simulated), align: 'right' },
      { header: 'WITH CHANGES', value: (t) => p50p99(t.proposed), align: 'right' },
      { header: 'FLUID IDEAL', value: (t) => p50p99(t.ideal), align: 'right' },
    ]),
    '',
    `The replay of the recorded quotas lands within ${duration(report.fidelity.worstP50ErrorMs)} (p50) and ${duration(report.fidelity.worstP99ErrorMs)} (p99) of the recorded waits`,
    '(tenants with 20 jobs or more): compare WITH CHANGES to SIMULATED. The fluid ideal is with the changes.',
  ].join('\n');
}
