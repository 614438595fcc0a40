import express, { Router, type Express, type NextFunction, type Request, type Response } from 'express';
import { listAudit, MAX_AUDIT_PAGE, verifyAuditChains, type AuditRecord, type AuditVerifyResult } from '@fairway/audit';
import { HttpRequestError, toFairwayError, toProblem } from '@fairway/errors';
import { parseQuotaPatch, type TenantQuota } from '@fairway/quota';
import type { WhatIfReport } from '@fairway/what-if';
import type { TenantId } from '@fairway/tenant-context';
import type { AdminDeps } from '../admin/deps';
import { checkOperator } from '../admin/operator-auth';
import { changeQuota } from '../admin/quota-change';
import { tenantParam } from '../admin/request';
import type { ChartSpec } from './charts';
import { html, type Html } from './html';
import {
  auditSection,
  problemPage,
  quotaSection,
  reviewPage,
  signInPage,
  tenantCharts,
  tenantLive,
  tenantPage,
  tenantsPage,
  tenantTable,
  whatIfSection,
  type PageSession,
} from './pages';
import { promString, type PrometheusReader } from './prometheus';
import { patchFromForm, quotaDiff } from './quota-form';
import { SharedSnapshot } from './shared-snapshot';
import { CONSOLE_PATH, csrfToken, endSession, requireConsoleOperator, requireCsrf, sameOrigin, startSession } from './session';
import { CONSOLE_CSS } from './styles';
import { parseTableQuery, tablePage, type TenantRow } from './tenant-table';

/** What the console is wired to: the admin API's own dependencies, and Prometheus for the last hour. */
export interface ConsoleDeps extends Pick<AdminDeps, 'tokens' | 'catalog' | 'scheduler' | 'ownerPool' | 'log' | 'onRefusal'> {
  /** PROMETHEUS_URL's reader; without it the console shows no charts and throttles without reasons. */
  prometheus?: PrometheusReader | undefined;
  /** Secure cookies (production: the console is reached over TLS). */
  secureCookies: boolean;
  /**
   * The admin API this console's operators may call with their own token (http://ADMIN_HOST:ADMIN_PORT):
   * the what-if replays recorded traffic through its POST /admin/v1/what-if. Without it, no what-if.
   */
  adminUrl?: string | undefined;
}

/**
 * The Content-Security-Policy of every console answer: scripts, styles, images and requests from
 * the console itself only; no inline script or style, no eval, no framing, forms post only here.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const HTMX_FILE = require.resolve('htmx.org/dist/htmx.min.js');
const AUDIT_SHOWN = 20;
const CHART_WINDOW_S = 3600;
const CHART_STEP_S = 10;
/** A replay of an hour of one tenant's traffic takes well under this. */
const WHAT_IF_TIMEOUT_MS = 20_000;

function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'Content-Security-Policy': CONSOLE_CSP,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
  next();
}

function send(res: Response, page: Html, status = 200): void {
  res.status(status).set('Cache-Control', 'no-store').type('html').send(page.text);
}

function sessionOf(req: Request): PageSession {
  return { operator: req.operator ?? 'operator', csrf: csrfToken(req.consoleToken ?? '') };
}

/** The scheduler's figures of every tenant it knows, with throttles by reason from Prometheus when it answers. */
async function loadTenantRows(deps: ConsoleDeps): Promise<{ rows: TenantRow[]; note?: string }> {
  const [stats, throttles] = await Promise.all([
    deps.scheduler.stats(),
    deps.prometheus
      ?.query('sum by (tenant, reason) (increase(fairway_scheduler_throttled_total[5m]))')
      .then((samples) => ({ samples }))
      .catch((err: unknown) => ({ error: (err as Error).message })),
  ]);
  const byTenant = new Map<string, Record<string, number>>();
  for (const sample of throttles && 'samples' in throttles ? throttles.samples : []) {
    const tenant = sample.metric['tenant'];
    const reason = sample.metric['reason'];
    if (!tenant || !reason || !Number.isFinite(sample.value)) continue;
    byTenant.set(tenant, { ...(byTenant.get(tenant) ?? {}), [reason]: sample.value });
  }
  const withReasons = throttles !== undefined && 'samples' in throttles;
  const rows = stats.tenants.map((t): TenantRow => ({
    tenantId: t.tenantId,
    queued: t.queued,
    inFlight: t.inFlight,
    maxInFlight: t.maxInFlight ?? null,
    waitP50Ms: t.waitP50Ms,
    waitP99Ms: t.waitP99Ms,
    share: t.share,
    entitlement: t.entitlement,
    throttled: Number(t.throttled),
    ...(withReasons ? { throttledByReason: byTenant.get(t.tenantId) ?? {} } : {}),
  }));
  const note = !deps.prometheus ? 'no PROMETHEUS_URL: throttles without reasons' : throttles && 'error' in throttles ? throttles.error : undefined;
  return note === undefined ? { rows } : { rows, note };
}

/** The tenant's last audit entries, newest first (the trail is read oldest first, a page at a time). */
async function recentAudit(deps: ConsoleDeps, tenant: string): Promise<AuditRecord[]> {
  let kept: AuditRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await listAudit(deps.ownerPool, { tenant, limit: MAX_AUDIT_PAGE, ...(after === undefined ? {} : { after }) });
    kept = [...kept, ...page].slice(-AUDIT_SHOWN);
    if (page.length < MAX_AUDIT_PAGE) return kept.reverse();
    after = page[page.length - 1]?.id;
  }
}

/** Figures this old are fresh enough for a table that refreshes every 2 s. */
const ROWS_MAX_AGE_MS = 1_500;

async function chartsOf(deps: ConsoleDeps, tenant: string): Promise<ChartSpec[] | string> {
  const prometheus = deps.prometheus;
  if (!prometheus) return 'No charts: this control plane has no PROMETHEUS_URL (npm run up starts a Prometheus and sets it).';
  const end = Math.floor(Date.now() / 1000);
  const start = end - CHART_WINDOW_S;
  const t = promString(tenant);
  const line = async (label: string, expr: string) => {
    const series = await prometheus.queryRange(expr, start, end, CHART_STEP_S);
    return { label, points: series[0]?.points ?? [] };
  };
  try {
    const [waitP99, dispatched, accepted, inFlight, cap] = await Promise.all([
      line('p99', `1000 * histogram_quantile(0.99, sum by (le) (rate(fairway_scheduler_wait_seconds_bucket{tenant=${t}}[1m])))`),
      line('dispatched', `sum(rate(fairway_scheduler_dispatched_total{tenant=${t}}[1m]))`),
      line('accepted', `sum(rate(fairway_edge_commands_accepted_total{tenant=${t}}[1m]))`),
      line('in flight', `sum(fairway_scheduler_tenant_in_flight{tenant=${t}})`),
      line('max in flight', `max(fairway_tenant_quota{tenant=${t},quota="max_in_flight"})`),
    ]);
    return [
      { title: 'Wait p99', unit: 'ms', start, end, lines: [waitP99] },
      { title: 'Throughput', unit: 'jobs/s', start, end, lines: [dispatched, accepted] },
      { title: 'In flight', unit: 'jobs', start, end, lines: [inFlight, cap] },
    ];
  } catch (err) {
    return `No charts: ${(err as Error).message}`;
  }
}

type RowsSnapshot = SharedSnapshot<{ rows: TenantRow[]; note?: string }>;

/**
 * The admin API's what-if for one tenant's proposed change over the last hour, asked as the signed-in
 * operator (the session's own token): the console adds no authority of its own. A failure is a message.
 */
async function whatIf(deps: ConsoleDeps, token: string, tenant: string, patch: unknown): Promise<WhatIfReport | string> {
  if (!deps.adminUrl) return 'No what-if: this console was started without the admin API address.';
  try {
    const res = await fetch(`${deps.adminUrl}/admin/v1/what-if`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ since: '1h', tenant: [tenant], changes: { [tenant]: patch } }),
      signal: AbortSignal.timeout(WHAT_IF_TIMEOUT_MS),
    });
    const body = (await res.json()) as WhatIfReport & { detail?: string };
    return res.ok ? body : `No what-if: ${body.detail ?? `the admin API answered ${res.status}`}`;
  } catch (err) {
    return `No what-if: ${(err as Error).message}`;
  }
}

async function liveOf(deps: ConsoleDeps, rows: RowsSnapshot, tenant: TenantId): Promise<Html> {
  const [{ rows: all }, explanation] = await Promise.all([
    rows.get(),
    deps.scheduler.explain(tenant).then(
      (e) => {
        let details: unknown = null;
        try {
          details = e.detailsJson ? JSON.parse(e.detailsJson) : null;
        } catch {
          details = e.detailsJson;
        }
        return { state: e.state, reason: e.reason, details };
      },
      () => undefined,
    ),
  ]);
  return tenantLive(
    tenant,
    all.find((r) => r.tenantId === tenant),
    explanation,
    new Date(),
  );
}

async function renderTenant(
  deps: ConsoleDeps,
  rows: RowsSnapshot,
  req: Request,
  res: Response,
  options: { savedId?: string; typed?: Record<string, unknown>; problems?: Array<{ path: string; message: string }>; status?: number } = {},
): Promise<void> {
  const id = tenantParam(req);
  const session = sessionOf(req);
  const [tenant, live, charts, quota, entries, verified] = await Promise.all([
    deps.catalog.get(id),
    liveOf(deps, rows, id),
    chartsOf(deps, id),
    deps.scheduler.getQuota(id),
    recentAudit(deps, id),
    verifyAuditChains(deps.ownerPool, { tenant: id }).catch((err: unknown): string => (err as Error).message),
  ]);
  const saved = options.savedId === undefined ? undefined : entries.find((e) => e.id === options.savedId);
  send(
    res,
    tenantPage(
      session,
      tenant,
      {
        live,
        charts: tenantCharts(id, charts),
        quota: quotaSection(id, quota, session, options.typed, options.problems),
        audit: auditSection(entries, verified as AuditVerifyResult | string, saved?.id),
      },
      saved,
    ),
    options.status,
  );
}

function consoleRoutes(deps: ConsoleDeps): Router {
  const routes = Router();
  const rows: RowsSnapshot = new SharedSnapshot(() => loadTenantRows(deps), ROWS_MAX_AGE_MS);
  routes.use(requireConsoleOperator(deps));

  routes.get('/', async (req, res) => {
    const query = parseTableQuery(req.query);
    const { rows: all, note } = await rows.get();
    send(res, tenantsPage(sessionOf(req), tenantTable(tablePage(all, query), query, new Date(), note), query));
  });
  routes.get('/fragments/tenants', async (req, res) => {
    const query = parseTableQuery(req.query);
    const { rows: all, note } = await rows.get();
    send(res, tenantTable(tablePage(all, query), query, new Date(), note));
  });

  routes.get('/tenants/:id', async (req, res) => {
    const saved = typeof req.query['saved'] === 'string' && /^\d{1,19}$/.test(req.query['saved']) ? req.query['saved'] : undefined;
    await renderTenant(deps, rows, req, res, saved === undefined ? {} : { savedId: saved });
  });
  routes.get('/tenants/:id/fragments/live', async (req, res) => {
    send(res, await liveOf(deps, rows, tenantParam(req)));
  });
  routes.get('/tenants/:id/fragments/charts', async (req, res) => {
    const id = tenantParam(req);
    send(res, tenantCharts(id, await chartsOf(deps, id)));
  });

  routes.get('/tenants/:id/fragments/what-if', async (req, res) => {
    const id = tenantParam(req);
    let patch: unknown;
    try {
      patch = parseQuotaPatch(JSON.parse(String(req.query['patch'] ?? '')));
    } catch (err) {
      send(res, whatIfSection(id, `No what-if: the change is not valid (${(err as Error).message}).`), 422);
      return;
    }
    send(res, whatIfSection(id, await whatIf(deps, req.consoleToken ?? '', id, patch)));
  });
  // The confirmation is the answer to a POST; reloading its address goes back to the tenant.
  routes.get('/tenants/:id/quota/review', (req, res) => res.redirect(303, `${CONSOLE_PATH}/tenants/${tenantParam(req)}`));
  routes.post('/tenants/:id/quota/review', requireCsrf, async (req, res) => {
    const id = tenantParam(req);
    const quota = await deps.scheduler.getQuota(id);
    const form = req.body as Record<string, unknown>;
    const result = patchFromForm(quota, form);
    if ('problems' in result) {
      await renderTenant(deps, rows, req, res, { typed: form, problems: result.problems, status: 422 });
      return;
    }
    send(res, reviewPage(sessionOf(req), id, quotaDiff(quota, result.patch), JSON.stringify(result.patch), quota.updatedAt));
  });
  routes.post('/tenants/:id/quota', requireCsrf, async (req, res) => {
    const id = tenantParam(req);
    const form = req.body as Record<string, unknown>;
    let patchInput: unknown;
    try {
      patchInput = JSON.parse(String(form['patch'] ?? ''));
    } catch {
      patchInput = undefined;
    }
    // Validated again: the confirmation's hidden field is the operator's browser's, not ours.
    const patch = parseQuotaPatch(patchInput);
    const current: TenantQuota = await deps.scheduler.getQuota(id);
    if (String(form['expectUpdatedAt'] ?? '') !== current.updatedAt) {
      await renderTenant(deps, rows, req, res, {
        problems: [
          {
            path: '(form)',
            message: `the quota changed since you reviewed it (by ${current.updatedBy || 'someone'} at ${current.updatedAt}): nothing was applied, review it again`,
          },
        ],
        status: 409,
      });
      return;
    }
    const change = await changeQuota(deps, id, patch, req.operator ?? 'operator');
    deps.log.info({ tenant: id, operator: req.operator, auditId: change.audit.id }, 'quota changed from the console');
    res.redirect(303, `${CONSOLE_PATH}/tenants/${id}?saved=${change.audit.id}#saved`);
  });

  routes.post('/sign-out', requireCsrf, (_req, res) => {
    endSession(res, deps.secureCookies);
    res.redirect(303, `${CONSOLE_PATH}/sign-in`);
  });
  return routes;
}

/**
 * The operator console: server-rendered pages, made live by htmx (vendored from npm, served from
 * here), on its own port (CONSOLE_PORT) under /console. It signs operators in with the admin API's
 * operator token and acts through the admin API's own code (quota changes, audit).
 */
export function createConsoleApp(deps: ConsoleDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(securityHeaders);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/', (_req, res) => res.redirect(302, `${CONSOLE_PATH}/`));
  app.get(`${CONSOLE_PATH}/assets/htmx.min.js`, (_req, res) => {
    res.set('Cache-Control', 'public, max-age=3600').sendFile(HTMX_FILE);
  });
  app.get(`${CONSOLE_PATH}/assets/console.css`, (_req, res) => {
    res.set('Cache-Control', 'public, max-age=3600').type('css').send(CONSOLE_CSS);
  });

  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });
  app.get(`${CONSOLE_PATH}/sign-in`, (_req, res) => send(res, signInPage()));
  app.post(`${CONSOLE_PATH}/sign-in`, form, async (req, res) => {
    if (!sameOrigin(req)) {
      send(res, signInPage('Refused: the sign-in form was sent from another site.'), 403);
      return;
    }
    const token = String((req.body as Record<string, unknown>)['token'] ?? '').trim();
    const check = await checkOperator(deps.tokens, token);
    if ('error' in check) {
      deps.log.info({ reason: check.reason }, 'console sign-in refused');
      deps.onRefusal?.(`console-${check.reason}`);
      const why =
        check.reason === 'not-operator' ? 'this token does not carry the operator role' : 'this is not a valid operator token (a tenant token never is)';
      send(res, signInPage(`Refused: ${why}. ${check.error.message}`), toProblem(check.error).status);
      return;
    }
    startSession(res, token, deps.secureCookies);
    deps.log.info({ operator: check.operator }, 'console sign-in');
    res.redirect(303, `${CONSOLE_PATH}/`);
  });

  app.use(CONSOLE_PATH, form, consoleRoutes(deps));
  app.use((req, _res, next) => {
    next(new HttpRequestError('ROUTE_NOT_FOUND', `no page at ${req.path}`));
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const error = toFairwayError(err);
    const problem = toProblem(error, req.originalUrl.split('?')[0]);
    if (problem.status >= 500) deps.log.error({ err, code: error.code }, 'console request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A live fragment's refusal replaces the fragment (and so stops its polling) with the message.
    if (req.headers['hx-request'] !== undefined && req.headers['hx-boosted'] === undefined) {
      const signIn = problem.status === 401 ? html` <a href="${CONSOLE_PATH}/sign-in">Sign in again</a>` : '';
      send(res, html`<p class="problem" role="alert">${problem.title}: ${problem.detail}${signIn}</p>`, problem.status);
      return;
    }
    const session = req.consoleToken ? sessionOf(req) : undefined;
    send(res, problemPage(problem.status, problem.title, problem.detail, session), problem.status);
  });
  return app;
}
