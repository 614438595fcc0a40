import { QUOTA_DEFAULTS } from '@fairway/quota';
import { readRecordedTrace, traceEndLine, traceJobLine } from './trace-format';

const row = (id: string, arrivalMs: number) => ({
  id,
  tenantId: 'acme',
  jobClass: 'standard',
  priority: 0,
  state: 'succeeded',
  attempts: 1,
  arrivalMs,
  waitMs: 12.34567,
  costMs: 200.0004,
});
const end = (jobs: number) =>
  traceEndLine({
    from: '2026-12-06T21:00:00.000Z',
    to: '2026-12-06T22:00:00.000Z',
    jobs,
    unfinished: 1,
    tiers: { standard: { slots: 4 } },
    quotas: { acme: QUOTA_DEFAULTS },
  });

describe('the recorded trace format', () => {
  it('reads back what it writes, the times rounded to the microsecond', async () => {
    const trace = await readRecordedTrace([traceJobLine(row('a', 0)), traceJobLine(row('b', 5.5)), end(2)]);
    expect(trace.jobs).toEqual([
      { id: 'a', t: 0, tenant: 'acme', class: 'standard', cost: 200, priority: 0, wait: 12.346, attempts: 1, state: 'succeeded' },
      { id: 'b', t: 5.5, tenant: 'acme', class: 'standard', cost: 200, priority: 0, wait: 12.346, attempts: 1, state: 'succeeded' },
    ]);
    expect(trace.end).toMatchObject({ kind: 'end', jobs: 2, unfinished: 1, tiers: { standard: { slots: 4 } }, quotas: { acme: QUOTA_DEFAULTS } });
  });

  it('reads lines from an async source (a file or a request body) and skips blank lines', async () => {
    async function* lines() {
      yield traceJobLine(row('a', 0));
      yield '';
      yield end(1);
    }
    expect((await readRecordedTrace(lines())).jobs).toHaveLength(1);
  });

  it.each([
    [['{"id":'], 'trace:1: not JSON'],
    [['{"id":"a","t":-1,"tenant":"acme","class":"standard","cost":1,"wait":0}'], 'trace:1: not a job line: t Number must be greater than or equal to 0'],
    [['{"id":"a","t":0,"tenant":"acme","class":"standard","wait":0}'], 'trace:1: not a job line: cost Required'],
    [['{"kind":"end","format":"fairway-trace/9"}'], 'trace:1: not a trace end line: format'],
    [[end(0), '{"id":"a","t":0,"tenant":"acme","class":"standard","cost":1,"wait":0}'], 'trace:2: a line after the end line'],
  ])('refuses a bad line, naming it: %j', async (lines, message) => {
    await expect(readRecordedTrace(lines)).rejects.toThrow(message);
  });

  it('refuses a cut trace: no end line, or an end line counting other jobs', async () => {
    await expect(readRecordedTrace([traceJobLine(row('a', 0))], 'cut.jsonl')).rejects.toThrow('cut.jsonl: no end line after 1 job(s): the trace is cut');
    await expect(readRecordedTrace([traceJobLine(row('a', 0)), end(3)])).rejects.toThrow('the end line counts 3 job(s) but the trace holds 1');
  });

  it('refuses more jobs than the caller holds in memory', async () => {
    await expect(readRecordedTrace([traceJobLine(row('a', 0)), traceJobLine(row('b', 1)), end(2)], 'body', 1)).rejects.toThrow('body:2: more than 1 jobs');
  });
});
