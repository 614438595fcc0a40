import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createPool, upsertTenant } from '@fairway/db';
import { eventually, uniqueTenantId } from '@fairway/db/testing';
import { ownDatabase, stack as globalStack } from './support/stack';

/* eslint-disable @typescript-eslint/no-require-imports -- the stack, Prometheus and token scripts are plain CommonJS shared with `npm run up` */
const { startStack, freePort } = require('../../scripts/lib/services.cjs') as {
  startStack: (infra: object, options: object) => Promise<{ stop: () => Promise<unknown> }>;
  freePort: () => Promise<number>;
};
const { startPrometheus, localScrapeConfig, ensureDebianTools, ensurePrometheus } = require('../../scripts/lib/prometheus.cjs') as {
  startPrometheus: (o: { config: string; port: number; name: string }) => Promise<{ url: string; stop: () => Promise<void> }>;
  localScrapeConfig: (metricsPorts: Record<string, number>, o?: { scrapeInterval?: string }) => string;
  ensureDebianTools: (binaries: string[], pkg: string) => Record<string, string>;
  ensurePrometheus: () => Record<string, string>;
};
const { devToken, operatorToken } = require('../../scripts/lib/token.cjs') as {
  devToken: (tenant: string) => Promise<string>;
  operatorToken: (o?: object) => Promise<string>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

// The machine's Chromium and Prometheus, installed from Debian's packages when missing (as root),
// while the file loads: an apt-get install on a fresh machine can take minutes, longer than a hook's
// timeout, and a synchronous install inside a hook would hold the timer until it is too late.
const { chromium: CHROMIUM } = ensureDebianTools(['chromium'], 'chromium');
ensurePrometheus();

const root = path.resolve(__dirname, '../..');
/** Screenshots of every page: a test artifact (git-ignored); FAIRWAY_DOCS_SCREENSHOTS=1 also refreshes docs/img. */
const ARTIFACTS = path.join(root, 'test', 'artifacts', 'console');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

interface Dashboard {
  panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
}

/**
 * The operator console in a real browser (the machine's Chromium, driven by playwright-core),
 * against a stack of its own started as `npm run up` starts one: services, a Prometheus scraping
 * them with the shipped rules, and the console on its own port.
 */
describe('the operator console in a browser', () => {
  const flooding = uniqueTenantId('flood');
  const quiet = uniqueTenantId('quiet');
  const ports: Record<string, number> = {};
  const metricsPorts: Record<string, number> = {};
  let services: { stop: () => Promise<unknown> } | undefined;
  let prepared: Awaited<ReturnType<typeof ownDatabase>> | undefined;
  let prometheus: { url: string; stop: () => Promise<void> } | undefined;
  let browser: Browser | undefined;
  let consoleUrl: string;
  let edgeUrl: string;

  const shot = async (page: Page, name: string): Promise<void> => {
    const file = path.join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    if (process.env['FAIRWAY_DOCS_SCREENSHOTS'] === '1') copyFileSync(file, path.join(root, 'docs', 'img', `console-${name}.png`));
  };

  const submit = async (tenant: string, count: number, ms: number, headers: Record<string, string> = {}): Promise<number[]> => {
    const token = await devToken(tenant);
    const statuses: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const res = await fetch(`${edgeUrl}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ type: 'synthetic', params: { ms } }),
      });
      statuses.push(res.status);
    }
    return statuses;
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    prepared = await ownDatabase('fairway_console_e2e');
    const owner = createPool({ connectionString: prepared.urls.owner, applicationName: 'fairway-e2e-console' });
    await upsertTenant(owner, { id: flooding, displayName: 'A tenant flooding the queue' });
    await upsertTenant(owner, { id: quiet, displayName: 'A quiet tenant' });
    await owner.end();

    for (const name of ['edge', 'admin', 'console', 'control-plane', 'scheduler-admin', 'worker-1', 'worker-2']) ports[name] = await freePort();
    for (const name of ['edge', 'scheduler', 'worker-1', 'worker-2', 'control-plane']) metricsPorts[name] = await freePort();
    const prometheusPort = await freePort();
    services = await startStack(
      { brokers: globalStack().brokers, urls: prepared.urls, topicPrefix: `fw-console-${randomBytes(4).toString('hex')}` },
      { ports, metricsPorts, prometheusUrl: `http://127.0.0.1:${prometheusPort}`, onLine: () => undefined },
    );
    prometheus = await startPrometheus({
      config: localScrapeConfig(metricsPorts, { scrapeInterval: '1s' }),
      port: prometheusPort,
      name: `console-e2e-${randomBytes(4).toString('hex')}`,
    });
    edgeUrl = `http://127.0.0.1:${ports['edge']}`;
    consoleUrl = `http://127.0.0.1:${ports['console']}/console/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    await prometheus?.stop();
    await services?.stop();
    await prepared?.drop();
  });

  it('signs an operator in, finds the flooding tenant, lowers its maxInFlight after a confirmation, and shows in-flight fall and the audit entry', async () => {
    // 100 jobs of 3 s: the flooding tenant fills the standard tier's slots for ~20 s.
    expect(new Set(await submit(flooding, 100, 3_000))).toEqual(new Set([202]));
    expect(new Set(await submit(quiet, 2, 10))).toEqual(new Set([202]));

    const context = await browser!.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });

    const first = await page.goto(consoleUrl);
    expect(first?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForURL(/\/console\/sign-in$/);
    await shot(page, 'sign-in');

    await page.getByLabel('Operator token (JWT)').fill(await operatorToken({ subject: 'e2e-console-operator' }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/console\/$/);
    await expect(page.getByRole('heading', { name: 'Tenants', level: 1 }).isVisible()).resolves.toBe(true);

    // The table sorts by queued, most first: the flooding tenant leads it once the scheduler has its jobs.
    const firstRow = page.locator('table.tenants tbody tr').first().locator('th a');
    await eventually('the flooding tenant at the top of the table', async () => ((await firstRow.textContent()) === flooding ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 250,
    });
    // The table refreshes itself without a reload: the page keeps a marker while its time moves on.
    await page.evaluate(() => ((globalThis as unknown as { consoleMarker: number }).consoleMarker = 1));
    const stamp = await page.locator('#tenant-table time').getAttribute('datetime');
    await eventually(
      'the table to refresh itself',
      async () => ((await page.locator('#tenant-table time').getAttribute('datetime')) !== stamp ? true : undefined),
      {
        timeoutMs: 10_000,
        intervalMs: 200,
      },
    );
    expect(await page.evaluate(() => (globalThis as unknown as { consoleMarker?: number }).consoleMarker)).toBe(1);
    // Filtering narrows the table as the operator types.
    await page.getByLabel('Filter by tenant id').fill(quiet);
    await eventually('the filter to leave the quiet tenant alone', async () => {
      const ids = await page.locator('table.tenants tbody th a').allTextContents();
      return ids.length === 1 && ids[0] === quiet ? ids : undefined;
    });
    await page.getByLabel('Filter by tenant id').fill('');
    await eventually('the unfiltered table', async () => ((await page.locator('table.tenants tbody th a').count()) >= 2 ? true : undefined));
    await shot(page, 'tenants');

    await page.getByRole('link', { name: flooding, exact: true }).click();
    await page.waitForURL(new RegExp(`/console/tenants/${flooding}$`));
    const inFlight = async (): Promise<{ running: number; cap: string }> => {
      const [running, cap] = String(await page.locator('#in-flight').textContent()).split(' / ');
      return { running: Number(running), cap: String(cap) };
    };
    const busy = await eventually('the flooding tenant to run several jobs at once', inFlight, {
      until: (f) => f.running >= 4,
      timeoutMs: 15_000,
      intervalMs: 250,
    });
    expect(busy.cap).toBe('∞');
    await expect(page.locator('#explain').textContent()).resolves.toMatch(/\S/);
    await shot(page, 'tenant');

    await page.getByRole('textbox', { name: 'Max in flight', exact: true }).fill('2');
    await page.getByRole('button', { name: 'Review change' }).click();
    await page.waitForURL(new RegExp(`/console/tenants/${flooding}/quota/review$`));
    const line = page.locator('#quota-diff tr.changed');
    await expect(line.count()).resolves.toBe(1);
    await expect(line.locator('th').textContent()).resolves.toContain('maxInFlight');
    await expect(line.locator('td').allTextContents()).resolves.toEqual(['unset', '2']);
    // The what-if replays the tenant's last hour through the admin API, as the signed-in operator.
    const whatIf = await eventually('the what-if of the change', async () => String(await page.locator('#what-if').textContent()), {
      until: (text) => /replayed, proposed quota|No what-if|No finished job/.test(text),
      timeoutMs: 20_000,
      intervalMs: 250,
    });
    expect(whatIf).toContain('replayed, proposed quota');
    await shot(page, 'review');
    await page.getByRole('button', { name: 'Apply change' }).click();

    await page.waitForURL(new RegExp(`/console/tenants/${flooding}\\?saved=\\d+`));
    const saved = page.locator('#saved');
    await expect(saved.textContent()).resolves.toContain('Quota saved');
    const auditLink = saved.getByRole('link');
    const anchor = String(await auditLink.getAttribute('href'));
    await expect(page.locator(`${anchor}`).textContent()).resolves.toMatch(/quota\.set[\s\S]*maxInFlight: null → 2/);
    await expect(page.locator(anchor).getAttribute('class')).resolves.toContain('highlight');
    await expect(page.locator('#audit-verification').textContent()).resolves.toContain('Chain verified');

    const capped = await eventually('in-flight to fall to the new cap', inFlight, {
      until: (f) => f.cap === '2' && f.running <= 2,
      timeoutMs: 15_000,
      intervalMs: 250,
    });
    expect(capped.running).toBeLessThanOrEqual(2);
    await shot(page, 'tenant-saved');

    // A change without the session's CSRF token is refused, from the console's own origin too.
    const forged = await page.evaluate(
      async (url) => (await fetch(url, { method: 'POST', body: new URLSearchParams({ patch: '{"maxInFlight":50}', expectUpdatedAt: '' }) })).status,
      `/console/tenants/${flooding}/quota`,
    );
    expect(forged).toBe(403);

    await page.setViewportSize(PHONE);
    await page.reload();
    await shot(page, 'tenant-phone');
    expect(violations).toEqual([]);
    await context.close();
  });

  it('refuses a tenant token at sign-in and sends a visitor without a session to sign in', async () => {
    const context = await browser!.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto(`${consoleUrl}tenants/${flooding}`);
    await page.waitForURL(/\/console\/sign-in$/);
    await page.getByLabel('Operator token (JWT)').fill(await devToken(flooding));
    const [answer] = await Promise.all([
      page.waitForResponse((res) => res.url().endsWith('/console/sign-in') && res.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    expect(answer.status()).toBe(401);
    await expect(page.locator('#sign-in-problem').textContent()).resolves.toContain('Refused');
    expect((await context.cookies()).map((c) => c.name)).not.toContain('fairway_console');
    await shot(page, 'tenant-token-refused');
    await context.close();
  });

  it('answers every panel of the tenant dashboard with series for a tenant with traffic, from the Prometheus the console charts from', async () => {
    // One refusal the edge labels with the tenant: its token naming another tenant in X-Tenant-ID.
    expect(await submit(flooding, 1, 10, { 'x-tenant-id': quiet })).toEqual([403]);
    const query = async (expr: string): Promise<number> => {
      const res = await fetch(`${prometheus?.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
      if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
      return body.data?.result.length ?? 0;
    };
    const dashboard = JSON.parse(readFileSync(path.join(root, 'deploy', 'grafana', 'dashboards', 'tenant.json'), 'utf8')) as Dashboard;
    const panels = dashboard.panels.filter((p) => (p.targets ?? []).length > 0);
    expect(panels.length).toBeGreaterThan(5);
    // Recording rules run every 15 s: a panel on them answers after their first evaluations.
    const empty = await eventually(
      'every panel of the tenant dashboard to return series',
      async () => {
        const missing: string[] = [];
        for (const panel of panels) {
          let series = 0;
          for (const target of panel.targets ?? []) series += await query(target.expr.replace(/\$__rate_interval/g, '1m').replace(/\$tenant/g, flooding));
          if (series === 0) missing.push(panel.title);
        }
        return missing;
      },
      { until: (missing) => missing.length === 0, timeoutMs: 60_000, intervalMs: 1_000 },
    );
    expect(empty).toEqual([]);
  });
});
