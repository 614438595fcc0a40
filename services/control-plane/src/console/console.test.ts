import { QUOTA_DEFAULTS, type QuotaLimits } from '@fairway/quota';
import { axisNumber, lineChart, polylines } from './charts';
import { formatThrottles } from './format';
import { html } from './html';
import { whatIfSection } from './pages';
import { patchFromForm, quotaDiff } from './quota-form';
import { cookieValue, csrfMatches, csrfToken, sameOrigin } from './session';
import { SharedSnapshot } from './shared-snapshot';
import { parseTableQuery, tableHref, tablePage, type TenantRow } from './tenant-table';

const row = (tenantId: string, figures: Partial<TenantRow> = {}): TenantRow => ({
  tenantId,
  queued: 0,
  inFlight: 0,
  maxInFlight: null,
  waitP50Ms: 0,
  waitP99Ms: 0,
  share: 0,
  entitlement: 0,
  throttled: 0,
  ...figures,
});

describe('the console tenant table', () => {
  const rows = [row('acme', { queued: 5 }), row('globex', { queued: 40 }), row('initech', { queued: 5 }), row('umbrella', { queued: 0, waitP99Ms: 900 })];

  it('sorts by the column asked for, ties by tenant id, and filters by a part of the id', () => {
    expect(tablePage(rows, parseTableQuery({})).rows.map((r) => r.tenantId)).toEqual(['globex', 'acme', 'initech', 'umbrella']);
    expect(tablePage(rows, parseTableQuery({ sort: 'queued', dir: 'asc' })).rows.map((r) => r.tenantId)).toEqual(['umbrella', 'acme', 'initech', 'globex']);
    expect(tablePage(rows, parseTableQuery({ sort: 'waitP99' })).rows[0]?.tenantId).toBe('umbrella');
    const filtered = tablePage(rows, parseTableQuery({ q: ' IN ' }));
    expect(filtered.rows.map((r) => r.tenantId)).toEqual(['initech']);
    expect(filtered).toMatchObject({ matched: 1, total: 4 });
  });

  it('pages 50,000 tenants 50 at a time and clamps a page past the end to the last', () => {
    const many = Array.from({ length: 50_000 }, (_, i) => row(`t-${String(i).padStart(5, '0')}`, { queued: i % 97 }));
    const page = tablePage(many, parseTableQuery({ sort: 'tenant', dir: 'asc', page: '3' }));
    expect(page).toMatchObject({ page: 3, pages: 1000, matched: 50_000 });
    expect(page.rows).toHaveLength(50);
    expect(page.rows[0]?.tenantId).toBe('t-00100');
    expect(tablePage(many, parseTableQuery({ page: '5000' })).page).toBe(1000);
  });

  it.each([
    ['an unknown column', { sort: 'password' }, { sort: 'queued' }],
    ['a direction that is neither', { dir: 'sideways' }, { dir: 'desc' }],
    ['a page that is not a number', { page: 'x' }, { page: 1 }],
    ['a page below 1', { page: '0' }, { page: 1 }],
    ['a filter as an array', { q: ['a', 'b'] }, { q: '' }],
  ])('falls back to the default for %s', (_name, raw, expected) => {
    expect(parseTableQuery(raw)).toMatchObject(expected);
  });

  it('links keep sort, direction and filter', () => {
    expect(tableHref('/console/', parseTableQuery({ sort: 'share', q: 'ac' }), { page: 2 })).toBe('/console/?sort=share&dir=desc&page=2&q=ac');
  });
});

describe('the console quota form', () => {
  const current: QuotaLimits = { ...QUOTA_DEFAULTS, weight: 2, maxInFlight: 8 };
  const form = (changes: Record<string, string>) => ({ weight: '2', rate: '', burst: '', maxInFlight: '8', rateBasis: 'jobs', ...changes });

  it('asks only for what changed, emptied limits cleared', () => {
    expect(patchFromForm(current, form({ maxInFlight: '2' }))).toEqual({ patch: { maxInFlight: 2, clear: [] } });
    expect(patchFromForm(current, form({ maxInFlight: '', rate: '10' }))).toEqual({ patch: { rate: 10, clear: ['maxInFlight'] } });
  });

  it.each([
    ['a cap of 0', { maxInFlight: '0' }, 'maxInFlight'],
    ['a fractional cap', { maxInFlight: '1.5' }, 'maxInFlight'],
    ['a word for a number', { weight: 'lots' }, 'weight'],
    ['a negative rate', { rate: '-1' }, 'rate'],
    ['an unknown rate basis', { rateBasis: 'bytes' }, 'rateBasis'],
  ])("refuses %s with @fairway/quota's message on that field", (_name, changes, field) => {
    const result = patchFromForm(current, form(changes));
    expect('problems' in result && result.problems.map((p) => p.path)).toEqual([field]);
  });

  it('refuses a form that changes nothing', () => {
    expect(patchFromForm(current, form({}))).toEqual({ problems: [{ path: '(form)', message: 'nothing changed: edit a limit first' }] });
  });

  it('shows every limit before -> after, the changed ones marked', () => {
    const diff = quotaDiff(current, { maxInFlight: 2, clear: ['weight'] });
    expect(diff.filter((l) => l.changed)).toEqual([
      { field: 'weight', before: '2', after: '1', changed: true },
      { field: 'maxInFlight', before: '8', after: '2', changed: true },
    ]);
    expect(diff.find((l) => l.field === 'rate')).toEqual({ field: 'rate', before: 'unset', after: 'unset', changed: false });
  });
});

describe('the console session', () => {
  it('derives a CSRF token per session token and compares it in constant time', () => {
    const token = csrfToken('header.payload.sig');
    expect(csrfMatches('header.payload.sig', token)).toBe(true);
    expect(csrfMatches('header.payload.other', token)).toBe(false);
    expect(csrfMatches('header.payload.sig', undefined)).toBe(false);
    expect(csrfMatches('header.payload.sig', token.slice(1))).toBe(false);
  });

  it('reads one cookie out of a Cookie header', () => {
    expect(cookieValue('a=1; fairway_console=abc.def; b=2', 'fairway_console')).toBe('abc.def');
    expect(cookieValue('xfairway_console=1', 'fairway_console')).toBeUndefined();
    expect(cookieValue(undefined, 'fairway_console')).toBeUndefined();
  });

  it.each([
    ['its own origin', { origin: 'http://127.0.0.1:8082', host: '127.0.0.1:8082' }, true],
    ['another site', { origin: 'https://evil.example', host: '127.0.0.1:8082' }, false],
    ['an opaque origin', { origin: 'null', host: '127.0.0.1:8082' }, false],
    ['no origin, a cross-site fetch', { 'sec-fetch-site': 'cross-site', host: 'h' }, false],
    ['no origin, same-origin fetch', { 'sec-fetch-site': 'same-origin', host: 'h' }, true],
    ['a client that is not a browser', { host: 'h' }, true],
  ])('tells a request from %s', (_name, headers, expected) => {
    expect(sameOrigin({ headers })).toBe(expected);
  });
});

describe('the console HTML', () => {
  it('escapes every interpolated value unless it is a fragment', () => {
    const name = '<script>alert("x")</script>';
    expect(html`<p title="${name}">${name}${html`<b>ok</b>`}${null}${['a', '&']}</p>`.text).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<b>ok</b>a&amp;</p>',
    );
  });

  it('draws a chart line in pieces around gaps and labels axes with 3 digits', () => {
    const runs = polylines(
      [
        [0, 1],
        [10, 2],
        [20, Number.NaN],
        [30, 1],
      ],
      { start: 0, end: 30 },
      2,
    );
    expect(runs).toHaveLength(2);
    expect(runs[0]?.split(' ')).toHaveLength(2);
    expect([axisNumber(0), axisNumber(0.1234), axisNumber(12.5), axisNumber(2500)]).toEqual(['0', '0.123', '12.5', '2.5k']);
    const chart = lineChart({ title: 'Wait p99', unit: 'ms', start: 0, end: 3600, lines: [{ label: 'p99', points: [[3600, 12]] }] }).text;
    expect(chart).toContain('aria-label="Wait p99: p99 12 ms"');
    expect(chart).not.toMatch(/style=/);
  });

  it('says throttles by reason, largest first', () => {
    expect(formatThrottles(7, { rate: 2, concurrency: 5, tier: 0 })).toBe('concurrency 5 · rate 2');
    expect(formatThrottles(7)).toBe('7');
    expect(formatThrottles(7, {})).toBe('none (5 min)');
  });
});

describe('the shared snapshot of the fleet figures', () => {
  it('joins a load in flight, keeps an answer for its age, and forgets a failed load', async () => {
    let clock = 0;
    let loads = 0;
    let fail = false;
    let release: () => void = () => undefined;
    const snapshot = new SharedSnapshot(
      () =>
        new Promise<number>((resolve, reject) => {
          loads += 1;
          release = () => (fail ? reject(new Error('scheduler down')) : resolve(loads));
        }),
      1_500,
      () => clock,
    );
    const first = snapshot.get();
    const joined = snapshot.get();
    release();
    await expect(Promise.all([first, joined])).resolves.toEqual([1, 1]);
    clock = 1_499;
    await expect(snapshot.get()).resolves.toBe(1);
    expect(loads).toBe(1);
    clock = 1_500;
    fail = true;
    const failed = snapshot.get();
    release();
    await expect(failed).rejects.toThrow('scheduler down');
    fail = false;
    const retried = snapshot.get();
    release();
    await expect(retried).resolves.toBe(3);
  });
});

describe('the console what-if', () => {
  const figures = (p50: number, p99: number) => ({ waitP50Ms: p50, waitP99Ms: p99 });
  const report = {
    from: '2026-12-06T22:00:00.000Z',
    to: '2026-12-06T23:00:00.000Z',
    jobs: 120,
    unfinished: 3,
    tiers: {},
    changes: {},
    fidelity: { worstP50ErrorMs: 40, worstP99ErrorMs: 250 },
    dispatchOverheadMs: {},
    tenants: [
      {
        tenant: 'acme',
        jobs: 100,
        quota: { recorded: QUOTA_DEFAULTS, proposed: { ...QUOTA_DEFAULTS, maxInFlight: 2 } },
        recorded: figures(900, 5000),
        simulated: figures(800, 4800),
        proposed: figures(2000, 9000),
        ideal: figures(1500, 7000),
        idealRecorded: figures(700, 4000),
      },
    ],
  };

  it("shows the tenant's waits recorded, replayed as they are, replayed with the change, and ideal", () => {
    const text = whatIfSection('acme', report).text;
    expect(text).toContain('100 jobs of acme, 120 in all, 22:00:00-23:00:00 UTC');
    expect(text).toMatch(/replayed, proposed quota<\/th>\s*<td class="num">2.0 s<\/td>\s*<td class="num">9.0 s/);
    expect(text).toContain('250 ms');
  });

  it('says so when the tenant has nothing to replay, or the admin API did not answer', () => {
    expect(whatIfSection('globex', report).text).toContain('No finished job of globex in the last hour');
    expect(whatIfSection('acme', 'No what-if: the admin API answered 503').text).toContain('No what-if: the admin API answered 503');
  });
});
