import type { AuditRecord, AuditVerifyResult } from '@fairway/audit';
import type { WhatIfReport } from '@fairway/what-if';
import type { TenantQuota } from '@fairway/quota';
import { lineChart, type ChartSpec } from './charts';
import { formatMs, formatPercent, formatThrottles } from './format';
import { html, type Html } from './html';
import { FORM_FIELDS, formValue, type FieldProblem, type QuotaDiffLine } from './quota-form';
import { CONSOLE_PATH } from './session';
import { SORT_KEYS, tableHref, type SortKey, type TablePage, type TableQuery, type TenantRow } from './tenant-table';

/**
 * htmx's settings (read from this meta tag): no eval, no inline scripts or indicator styles, so the
 * strict Content-Security-Policy holds; no page snapshots in localStorage (they hold tenants'
 * figures); every answer swapped, so a refusal or a validation message is shown, not dropped.
 */
const HTMX_CONFIG = JSON.stringify({
  allowEval: false,
  allowScriptTags: false,
  includeIndicatorStyles: false,
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
  selfRequestsOnly: true,
  responseHandling: [
    { code: '204', swap: false },
    { code: '...', swap: true },
  ],
});

/** Who is signed in, and the CSRF token of the session (every change sends it). */
export interface PageSession {
  operator: string;
  csrf: string;
}

/** The frame of every page: head, skip link, navigation, the operator and sign-out. */
export function layout(title: string, body: Html, session?: PageSession): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content="${HTMX_CONFIG}" />
        <title>${title} · Fairway console</title>
        <link rel="stylesheet" href="${CONSOLE_PATH}/assets/console.css" />
        <script src="${CONSOLE_PATH}/assets/htmx.min.js" defer></script>
      </head>
      <body hx-boost="true">
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="${CONSOLE_PATH}/">Fairway console</a>
          ${
            session
              ? html`<nav aria-label="Console">
                  <a href="${CONSOLE_PATH}/">Tenants</a>
                  <span class="muted">signed in as ${session.operator}</span>
                  <form method="post" action="${CONSOLE_PATH}/sign-out" class="inline">
                    <input type="hidden" name="_csrf" value="${session.csrf}" />
                    <button type="submit" class="link">Sign out</button>
                  </form>
                </nav>`
              : ''
          }
        </header>
        <main id="main" tabindex="-1">${body}</main>
      </body>
    </html>`;
}

/** The sign-in page: paste an operator token (the admin API's credential; there is no other). */
export function signInPage(problem?: string): Html {
  return layout(
    'Sign in',
    html`<h1>Sign in</h1>
      <p>The console accepts the same operator token as the admin API and <code>tenantctl</code>. A tenant's token is refused.</p>
      ${problem ? html`<p class="problem" role="alert" id="sign-in-problem">${problem}</p>` : ''}
      <form method="post" action="${CONSOLE_PATH}/sign-in" class="stack">
        <label for="token">Operator token (JWT)</label>
        <textarea
          id="token"
          name="token"
          rows="4"
          required
          autocomplete="off"
          spellcheck="false"
          ${problem ? html`aria-describedby="sign-in-problem"` : ''}
        ></textarea>
        <p class="hint">On a development stack: <code>npm run -s token -- --operator</code></p>
        <button type="submit">Sign in</button>
      </form>`,
  );
}

/** An error page (or, for a live fragment, the message alone). */
export function problemPage(status: number, title: string, detail: string, session?: PageSession): Html {
  return layout(
    title,
    html`<h1>${title}</h1>
      <p class="problem" role="alert">${detail}</p>
      <p class="muted">HTTP ${status}</p>
      <p><a href="${CONSOLE_PATH}/">Back to the tenants</a></p>`,
    session,
  );
}

const COLUMNS: Record<SortKey, string> = {
  tenant: 'Tenant',
  queued: 'Queued',
  inFlight: 'In flight / cap',
  waitP50: 'Wait p50',
  waitP99: 'Wait p99',
  share: 'Share / entitled',
  throttled: 'Throttled',
};

function fragmentUrl(query: TableQuery): string {
  return tableHref(`${CONSOLE_PATH}/fragments/tenants`, query);
}

/** One row of the table. */
function tenantRow(row: TenantRow): Html {
  const capped = row.maxInFlight !== null && row.inFlight >= row.maxInFlight;
  return html`<tr>
    <th scope="row"><a id="${`t-${row.tenantId}`}" href="${`${CONSOLE_PATH}/tenants/${row.tenantId}`}">${row.tenantId}</a></th>
    <td class="num">${row.queued}</td>
    <td class="${capped ? 'num at-cap' : 'num'}">${row.inFlight} / ${row.maxInFlight ?? '∞'}</td>
    <td class="num">${formatMs(row.waitP50Ms)}</td>
    <td class="num">${formatMs(row.waitP99Ms)}</td>
    <td class="num">${formatPercent(row.share)} / ${formatPercent(row.entitlement)}</td>
    <td>${formatThrottles(row.throttled, row.throttledByReason)}</td>
  </tr>`;
}

/** The live table: refreshes itself every 2 s with the same sort, filter and page. */
export function tenantTable(page: TablePage, query: TableQuery, updatedAt: Date, note?: string): Html {
  const header = (key: SortKey): Html => {
    const active = query.sort === key;
    const dir = active && query.dir === 'desc' ? 'asc' : active ? 'desc' : key === 'tenant' ? 'asc' : 'desc';
    return html`<th scope="col" ${active ? html`aria-sort="${query.dir === 'asc' ? 'ascending' : 'descending'}"` : ''}>
      <a href="${tableHref(`${CONSOLE_PATH}/`, query, { sort: key, dir, page: 1 })}">${COLUMNS[key]}${active ? (query.dir === 'asc' ? ' ▲' : ' ▼') : ''}</a>
    </th>`;
  };
  return html`<section id="tenant-table" hx-get="${fragmentUrl(query)}" hx-trigger="every 2s" hx-swap="outerHTML" aria-label="Tenants">
    <p class="muted status">
      ${page.matched} of ${page.total} tenants${query.q ? html` matching “${query.q}”` : ''} · page ${page.page} of ${page.pages} · updated
      <time datetime="${updatedAt.toISOString()}">${updatedAt.toISOString().slice(11, 19)}</time> UTC${note ? html` · <span class="warn">${note}</span>` : ''}
    </p>
    <div class="scroll" tabindex="0" role="region" aria-label="Tenant table, scrolls sideways on narrow screens">
      <table class="tenants">
        <thead>
          <tr>
            ${SORT_KEYS.map(header)}
          </tr>
        </thead>
        <tbody>
          ${
            page.rows.length === 0
              ? html`<tr>
                  <td colspan="7" class="muted">No tenant with queued, running or recent work matches.</td>
                </tr>`
              : page.rows.map(tenantRow)
          }
        </tbody>
      </table>
    </div>
    <nav class="pager" aria-label="Pages">
      ${page.page > 1 ? html`<a href="${tableHref(`${CONSOLE_PATH}/`, query, { page: page.page - 1 })}" rel="prev">← Previous</a>` : ''}
      ${page.page < page.pages ? html`<a href="${tableHref(`${CONSOLE_PATH}/`, query, { page: page.page + 1 })}" rel="next">Next →</a>` : ''}
    </nav>
  </section>`;
}

/** The tenants page: a filter and the live table. */
export function tenantsPage(session: PageSession, table: Html, query: TableQuery): Html {
  return layout(
    'Tenants',
    html`<h1>Tenants</h1>
      <p class="muted">Tenants with queued, running or recent work, from the scheduler; throttles by reason over 5 minutes, from Prometheus.</p>
      <form method="get" action="${CONSOLE_PATH}/" role="search" class="filter">
        <label for="q">Filter by tenant id</label>
        <input
          id="q"
          name="q"
          type="search"
          value="${query.q}"
          autocomplete="off"
          hx-get="${CONSOLE_PATH}/fragments/tenants"
          hx-trigger="input changed delay:300ms, search"
          hx-target="#tenant-table"
          hx-swap="outerHTML"
          hx-include="closest form"
        />
        <input type="hidden" name="sort" value="${query.sort}" />
        <input type="hidden" name="dir" value="${query.dir}" />
        <button type="submit">Filter</button>
      </form>
      ${table}`,
    session,
  );
}

/** The live figures of one tenant and the scheduler's explanation, refreshed every 2 s. */
export function tenantLive(
  tenantId: string,
  row: TenantRow | undefined,
  explanation: { state: string; reason: string; details: unknown } | undefined,
  updatedAt: Date,
): Html {
  const figure = (label: string, value: string | number, id?: string) =>
    html`<div>
      <dt>${label}</dt>
      <dd ${id ? html`id="${id}"` : ''}>${value}</dd>
    </div>`;
  return html`<section
    id="live"
    hx-get="${`${CONSOLE_PATH}/tenants/${tenantId}/fragments/live`}"
    hx-trigger="every 2s"
    hx-swap="outerHTML"
    aria-labelledby="live-title"
  >
    <h2 id="live-title">
      Now <span class="muted">(updated <time datetime="${updatedAt.toISOString()}">${updatedAt.toISOString().slice(11, 19)}</time> UTC)</span>
    </h2>
    ${
      row
        ? html`<dl class="figures">
            ${figure('Queued', row.queued, 'queued')} ${figure('In flight / cap', `${row.inFlight} / ${row.maxInFlight ?? '∞'}`, 'in-flight')}
            ${figure('Wait p50', formatMs(row.waitP50Ms))} ${figure('Wait p99', formatMs(row.waitP99Ms))}
            ${figure('Share / entitled', `${formatPercent(row.share)} / ${formatPercent(row.entitlement)}`)}
            ${figure('Throttled', formatThrottles(row.throttled, row.throttledByReason))}
          </dl>`
        : html`<p class="muted" id="in-flight-none">No queued, running or recent work.</p>`
    }
    <h2>Why its next job waits <span class="muted">(the scheduler's explain)</span></h2>
    ${
      explanation
        ? html`<p id="explain"><strong class="state">${explanation.state}</strong> ${explanation.reason}</p>
            ${
              explanation.details === null
                ? ''
                : html`<details>
                    <summary>Details</summary>
                    <pre>${JSON.stringify(explanation.details, null, 2)}</pre>
                  </details>`
            }`
        : html`<p class="warn">The scheduler did not answer.</p>`
    }
  </section>`;
}

/** The charts of the last hour, refreshed every 15 s; without Prometheus, why there are none. */
export function tenantCharts(tenantId: string, charts: ChartSpec[] | string): Html {
  return html`<section
    id="charts"
    hx-get="${`${CONSOLE_PATH}/tenants/${tenantId}/fragments/charts`}"
    hx-trigger="every 15s"
    hx-swap="outerHTML"
    aria-labelledby="charts-title"
  >
    <h2 id="charts-title">Last hour <span class="muted">(Prometheus)</span></h2>
    ${typeof charts === 'string' ? html`<p class="warn">${charts}</p>` : html`<div class="charts">${charts.map(lineChart)}</div>`}
  </section>`;
}

/** The quota and its edit form (values as they are now, or as typed when they did not validate). */
export function quotaSection(tenantId: string, quota: TenantQuota, session: PageSession, typed?: Record<string, unknown>, problems: FieldProblem[] = []): Html {
  const value = (field: (typeof FORM_FIELDS)[number]) => (typed && typeof typed[field] === 'string' ? String(typed[field]) : formValue(quota[field]));
  const problemOf = (field: string) => problems.find((p) => p.path === field || p.path.startsWith(`${field}.`));
  const general = problems.filter((p) => !FORM_FIELDS.some((f) => p.path === f || p.path.startsWith(`${f}.`)));
  const number = (field: 'weight' | 'rate' | 'burst' | 'maxInFlight', label: string, hint: string, step: string) => {
    const problem = problemOf(field);
    return html`<div class="field">
      <label for="${`quota-${field}`}">${label}</label>
      <input
        id="${`quota-${field}`}"
        name="${field}"
        inputmode="decimal"
        value="${value(field)}"
        step="${step}"
        aria-describedby="${`quota-${field}-hint${problem ? ` quota-${field}-problem` : ''}`}"
        ${problem ? html`aria-invalid="true"` : ''}
      />
      <small id="${`quota-${field}-hint`}">${hint}</small>
      ${problem ? html`<small class="problem" id="${`quota-${field}-problem`}">${problem.message}</small>` : ''}
    </div>`;
  };
  return html`<section id="quota" aria-labelledby="quota-title">
    <h2 id="quota-title">Quota</h2>
    <p class="muted">${quota.updatedAt ? `last changed ${quota.updatedAt} by ${quota.updatedBy}` : 'on the defaults'}</p>
    ${
      general.length > 0
        ? html`<ul class="problem" role="alert">
            ${general.map((p) => html`<li>${p.message}</li>`)}
          </ul>`
        : ''
    }
    ${problems.length > 0 && general.length === 0 ? html`<p class="problem" role="alert">Fix the marked limits.</p>` : ''}
    <form method="post" action="${`${CONSOLE_PATH}/tenants/${tenantId}/quota/review`}" class="quota-form">
      <input type="hidden" name="_csrf" value="${session.csrf}" />
      ${number('weight', 'Weight', 'share of the scheduler while every tenant is busy (empty: 1)', 'any')}
      ${number('maxInFlight', 'Max in flight', 'jobs running at once (empty: unlimited)', '1')}
      ${number('rate', 'Rate', 'tokens a second (empty: unlimited)', 'any')} ${number('burst', 'Burst', 'token bucket size (empty: one second of rate)', 'any')}
      <div class="field">
        <label for="quota-rateBasis">Rate counts</label>
        <select id="quota-rateBasis" name="rateBasis">
          <option value="jobs" ${value('rateBasis') === 'jobs' ? 'selected' : ''}>jobs</option>
          <option value="cost" ${value('rateBasis') === 'cost' ? 'selected' : ''}>cost units</option>
        </select>
      </div>
      <p class="muted">Per-class caps: ${quota.maxInFlightByClass ? JSON.stringify(quota.maxInFlightByClass) : 'none'} (change them with tenantctl)</p>
      <button type="submit">Review change</button>
    </form>
  </section>`;
}

/** The tenant's audit trail (newest first) and whether its hash chain verifies. */
export function auditSection(entries: AuditRecord[], verified: AuditVerifyResult | string, highlight?: string): Html {
  const state =
    typeof verified === 'string'
      ? html`<p class="warn" id="audit-verification">Not verified: ${verified}</p>`
      : verified.ok
        ? html`<p class="ok" id="audit-verification">
            ✓ Chain verified: ${verified.entries} ${verified.entries === 1 ? 'entry' : 'entries'}, every link intact.
          </p>`
        : html`<p class="problem" role="alert" id="audit-verification">
            ✗ Chain broken at entry ${verified.firstBroken?.seq ?? '?'}: ${verified.firstBroken?.reason ?? 'a link does not verify'}.
          </p>`;
  const change = (entry: AuditRecord): string => {
    if (entry.before === undefined && entry.after === undefined) return '';
    const before = (entry.before ?? {}) as Record<string, unknown>;
    const after = (entry.after ?? {}) as Record<string, unknown>;
    if (typeof before !== 'object' || typeof after !== 'object') return JSON.stringify(entry.after);
    return Object.keys({ ...before, ...after })
      .filter((k) => !['updatedAt', 'updatedBy', 'tenantId'].includes(k) && JSON.stringify(before[k]) !== JSON.stringify(after[k]))
      .map((k) => `${k}: ${JSON.stringify(before[k] ?? null)} → ${JSON.stringify(after[k] ?? null)}`)
      .join(', ');
  };
  return html`<section id="audit" aria-labelledby="audit-title">
    <h2 id="audit-title">Audit trail</h2>
    ${state}
    <div class="scroll" tabindex="0" role="region" aria-label="Audit entries">
      <table class="audit">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">When (UTC)</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Change</th>
          </tr>
        </thead>
        <tbody>
          ${
            entries.length === 0
              ? html`<tr>
                  <td colspan="5" class="muted">No entries.</td>
                </tr>`
              : entries.map(
                  (e) =>
                    html`<tr id="${`audit-${e.id}`}" class="${e.id === highlight ? 'highlight' : ''}">
                      <td class="num">${e.seq}</td>
                      <td>${e.at.toISOString().replace('T', ' ').slice(0, 19)}</td>
                      <td>${e.actor}</td>
                      <td>${e.action}</td>
                      <td>${change(e)}${e.reason ? html` <span class="muted">(${e.reason})</span>` : ''}</td>
                    </tr>`,
                )
          }
        </tbody>
      </table>
    </div>
  </section>`;
}

/** A tenant: live figures, charts, quota, audit trail; after a save, the banner that links its audit entry. */
export function tenantPage(
  session: PageSession,
  tenant: { id: string; status: string; displayName?: string | undefined },
  parts: { live: Html; charts: Html; quota: Html; audit: Html },
  saved?: AuditRecord,
): Html {
  return layout(
    tenant.id,
    html`<nav class="crumbs" aria-label="Breadcrumb"><a href="${CONSOLE_PATH}/">Tenants</a> / <span aria-current="page">${tenant.id}</span></nav>
      <h1>${tenant.id} <span class="${`badge badge-${tenant.status}`}">${tenant.status}</span></h1>
      ${tenant.displayName ? html`<p class="muted">${tenant.displayName}</p>` : ''}
      ${
        saved
          ? html`<p class="saved" role="status" id="saved">
              Quota saved. <a href="${`#audit-${saved.id}`}">Audit entry ${saved.seq} (${saved.action} by ${saved.actor})</a>
            </p>`
          : ''
      }
      ${parts.live} ${parts.charts}
      <div class="columns">${parts.quota} ${parts.audit}</div>`,
    session,
  );
}

/** The confirmation: every limit before -> after, the change applied only on "Apply". */
export function reviewPage(session: PageSession, tenantId: string, diff: QuotaDiffLine[], patchJson: string, expectUpdatedAt: string): Html {
  const whatIfUrl = `${CONSOLE_PATH}/tenants/${tenantId}/fragments/what-if?${new URLSearchParams({ patch: patchJson }).toString()}`;
  return layout(
    `Review ${tenantId}'s quota`,
    html`<nav class="crumbs" aria-label="Breadcrumb">
        <a href="${CONSOLE_PATH}/">Tenants</a> / <a href="${`${CONSOLE_PATH}/tenants/${tenantId}`}">${tenantId}</a> / <span aria-current="page">review</span>
      </nav>
      <h1>Change ${tenantId}'s quota?</h1>
      <table class="diff" id="quota-diff">
        <caption>
          Before → after (changed limits marked)
        </caption>
        <thead>
          <tr>
            <th scope="col">Limit</th>
            <th scope="col">Before</th>
            <th scope="col">After</th>
          </tr>
        </thead>
        <tbody>
          ${diff.map(
            (line) =>
              html`<tr class="${line.changed ? 'changed' : ''}">
                <th scope="row">${line.field}${line.changed ? html` <span class="sr-only">(changes)</span>` : ''}</th>
                <td>${line.before}</td>
                <td>${line.changed ? html`<strong>${line.after}</strong>` : line.after}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <p>The scheduler applies it on every replica within a second; the change is recorded in the tenant's audit trail.</p>
      <section id="what-if" hx-get="${whatIfUrl}" hx-trigger="load" hx-swap="outerHTML" aria-labelledby="what-if-title">
        <h2 id="what-if-title">What if <span class="muted">(the last hour of recorded traffic, replayed)</span></h2>
        <p class="muted"><a href="${whatIfUrl}">Replay the last hour with this change</a></p>
      </section>
      <form method="post" action="${`${CONSOLE_PATH}/tenants/${tenantId}/quota`}" class="inline">
        <input type="hidden" name="_csrf" value="${session.csrf}" />
        <input type="hidden" name="patch" value="${patchJson}" />
        <input type="hidden" name="expectUpdatedAt" value="${expectUpdatedAt}" />
        <button type="submit" autofocus>Apply change</button>
      </form>
      <a class="button secondary" href="${`${CONSOLE_PATH}/tenants/${tenantId}`}">Cancel</a>`,
    session,
  );
}

/**
 * The what-if of a proposed change for one tenant: its waits over the last hour as recorded, as the
 * simulator replays them with the quota it had, with the proposed quota, and the fluid ideal.
 */
export function whatIfSection(tenantId: string, report: WhatIfReport | string): Html {
  const body = (): Html => {
    if (typeof report === 'string') return html`<p class="warn">${report}</p>`;
    const line = report.tenants.find((t) => t.tenant === tenantId);
    if (!line) return html`<p class="muted">No finished job of ${tenantId} in the last hour (${report.jobs} jobs of other tenants): nothing to replay.</p>`;
    const row = (label: string, figures: { waitP50Ms: number; waitP99Ms: number }) =>
      html`<tr>
        <th scope="row">${label}</th>
        <td class="num">${formatMs(figures.waitP50Ms)}</td>
        <td class="num">${formatMs(figures.waitP99Ms)}</td>
      </tr>`;
    return html`<table class="diff" id="what-if-table">
        <caption>
          ${line.jobs} jobs of ${tenantId}, ${report.jobs} in all, ${report.from.slice(11, 19)}-${report.to.slice(11, 19)} UTC
        </caption>
        <thead>
          <tr>
            <th scope="col">Wait</th>
            <th scope="col">p50</th>
            <th scope="col">p99</th>
          </tr>
        </thead>
        <tbody>
          ${row('recorded', line.recorded)} ${row('replayed, quota as it is', line.simulated)} ${row('replayed, proposed quota', line.proposed)}
          ${row('ideal (fluid), proposed quota', line.ideal)}
        </tbody>
      </table>
      <p class="muted">
        Read "proposed" against "replayed": the replay leaves out dispatch latency (worst p99 error of the replay here:
        ${formatMs(report.fidelity.worstP99ErrorMs)}).
      </p>`;
  };
  return html`<section id="what-if" aria-labelledby="what-if-title">
    <h2 id="what-if-title">What if <span class="muted">(the last hour of recorded traffic, replayed)</span></h2>
    ${body()}
  </section>`;
}
