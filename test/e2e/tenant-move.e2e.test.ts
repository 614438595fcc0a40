import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { eventually, uniqueTenantId } from '@fairway/db/testing';
import { api, stack, token } from './support/stack';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- shared with `npm run -s token`
const { operatorToken } = require(path.join(__dirname, '..', '..', 'scripts', 'lib', 'token.cjs')) as { operatorToken: (o?: object) => Promise<string> };

const TENANTCTL = path.join(__dirname, '..', '..', 'dist', 'services', 'tenantctl', 'src', 'main.js');

function tenantctl(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TENANTCTL, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface ApiRecord {
  id: string;
  title: string;
  body: string;
  amount: string;
  tags: string[];
  updatedAt: string;
}

/** A record's checksum as the tenant reads it through the edge. */
function checksum(r: ApiRecord): string {
  return createHash('sha256')
    .update(JSON.stringify([r.title, r.body, r.amount, r.tags, r.updatedAt]))
    .digest('hex');
}

/**
 * A tenant that keeps writing through the edge (POST, PATCH and DELETE /v1/records), retrying what
 * the edge refuses retriably (the move's fence: 503 with Retry-After; the rate limit: 429).
 * `expected` is what every acknowledged write says the tenant holds.
 */
class EdgeWriter {
  readonly expected = new Map<string, string>();
  acked = 0;
  refused = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly bearer: string) {}

  start(): void {
    this.loop = (async () => {
      for (let n = 1; !this.stopped; n += 1) {
        const ids = [...this.expected.keys()];
        const pick = ids[(n * 7919) % Math.max(ids.length, 1)];
        if (n % 5 === 0 && pick) {
          await this.call('DELETE', `/v1/records/${pick}`);
          this.expected.delete(pick);
        } else if (n % 3 === 0 && pick) {
          const updated = await this.call('PATCH', `/v1/records/${pick}`, { title: `updated ${n}`, amount: `${n % 100}.75` });
          this.expected.set(updated.id, checksum(updated));
        } else {
          const created = await this.call('POST', '/v1/records', { title: `written ${n}`, body: `body ${n}`, amount: `${n % 100}.25`, tags: ['live'] });
          this.expected.set(created.id, checksum(created));
        }
      }
    })();
  }

  /** The call's answer once acknowledged (a DELETE's is empty); throws on anything but a retriable refusal. */
  private async call(method: string, route: string, body?: unknown): Promise<ApiRecord> {
    for (;;) {
      const res = await api(method, route, { token: this.bearer, ...(body === undefined ? {} : { body }) });
      if (res.status === 503 || res.status === 429) {
        this.refused += 1;
        await new Promise((resolve) => setTimeout(resolve, 25));
        continue;
      }
      if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
      this.acked += 1;
      return res.body as unknown as ApiRecord;
    }
  }

  async more(count: number): Promise<void> {
    const target = this.acked + count;
    await eventually(`${count} more acknowledged writes`, () => (this.acked >= target ? true : undefined), { timeoutMs: 30_000, intervalMs: 20 });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/** Every record of the tenant through the edge's list, page by page: id -> checksum. */
async function readAll(bearer: string): Promise<Map<string, string>> {
  const all = new Map<string, string>();
  let cursor: string | undefined;
  do {
    const route = `/v1/records?limit=200${cursor ? `&cursor=${cursor}` : ''}`;
    // The writer may have spent the tenant's rate just before: a 429 (or a 503) is a retriable refusal.
    const page = await eventually(`GET ${route} past the rate limit's retriable refusals`, () => api('GET', route, { token: bearer }), {
      until: (r) => r.status !== 429 && r.status !== 503,
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(page.status).toBe(200);
    for (const r of page.body['items'] as ApiRecord[]) all.set(r.id, checksum(r));
    cursor = page.body['nextCursor'] as string | undefined;
  } while (cursor);
  return all;
}

/**
 * `tenantctl tenants move` on the running stack: one tenant moved around every model pair
 * (pooled -> schema -> database -> pooled -> database -> schema -> pooled: each of the 6 directions
 * once) while it writes through the edge, then every record id and checksum compared with what the
 * acknowledged writes left, and the tenant's audit chain verified.
 */
describe('live moves of a writing tenant with tenantctl on the running stack', () => {
  it('moves a tenant through every model pair with no write lost or duplicated', async () => {
    const operator = await operatorToken({ subject: 'e2e-move' });
    const env = { ADMIN_URL: stack().adminUrl, FAIRWAY_OPERATOR_TOKEN: operator };
    const tenant = uniqueTenantId('mve');
    const created = await fetch(`${stack().adminUrl}/admin/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: tenant, isolationModel: 'pooled' }),
    });
    expect(created.status).toBe(201);
    const bearer = await token(tenant);
    const writer = new EdgeWriter(bearer);
    writer.start();
    await writer.more(20);

    for (const to of ['schema', 'database', 'pooled', 'database', 'schema', 'pooled']) {
      const run = await tenantctl(['--json', 'tenants', 'move', tenant, '--to', to, '--grace', '0s', '--wait-cleanup', '--poll', '200ms'], env);
      expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
      expect(JSON.parse(run.stdout)).toMatchObject({ state: 'done', switched: true, target: { model: to } });
      await writer.more(5);
    }
    await writer.stop();

    expect(await readAll(bearer)).toEqual(writer.expected);
    const verify = await fetch(`${stack().adminUrl}/admin/v1/audit/verify?tenant=${tenant}`, { headers: { authorization: `Bearer ${operator}` } });
    expect(await verify.json()).toMatchObject({ ok: true });
  });
});
