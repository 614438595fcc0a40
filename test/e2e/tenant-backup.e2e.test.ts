import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { uniqueTenantId } from '@fairway/db/testing';
import { api, stack, token, waitForJob } from './support/stack';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- shared with `npm run -s token`
const { operatorToken } = require(path.join(__dirname, '..', '..', 'scripts', 'lib', 'token.cjs')) as { operatorToken: (o?: object) => Promise<string> };

const TENANTCTL = path.join(__dirname, '..', '..', 'dist', 'services', 'tenantctl', 'src', 'main.js');

/** Runs `script` in a shell (so tenantctl can write to a real pipe), with tenantctl's environment. */
function shell(script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function admin(method: string, route: string, operator: string, body?: unknown) {
  const res = await fetch(`${stack().adminUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${operator}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * `tenantctl tenants backup|restore|offboard` as an operator runs them, against the running stack:
 * the archive goes through a shell pipe, is restored as a copy in another isolation model that the
 * copy's own credentials read through the edge, and offboarding exports, checks and then deletes.
 */
describe('tenant backup, restore and export-then-delete with tenantctl on the running stack', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fw-backup-e2e-'));
  const tenant = uniqueTenantId('bke');
  let env: Record<string, string>;
  let operator: string;
  let records: Array<{ title: string; body: string }>;

  beforeAll(async () => {
    operator = await operatorToken({ subject: 'e2e-backup' });
    env = { ADMIN_URL: stack().adminUrl, FAIRWAY_OPERATOR_TOKEN: operator };
    expect((await admin('POST', '/admin/v1/tenants', operator, { id: tenant, isolationModel: 'schema' })).status).toBe(201);
    const bearer = await token(tenant);
    for (const n of [1, 2, 3]) {
      expect((await api('POST', '/v1/records', { token: bearer, body: { title: `r${n}`, body: `secret ${n}`, amount: `${n}.50`, tags: ['x'] } })).status).toBe(
        201,
      );
    }
    const exported = await api('POST', '/v1/jobs', { token: bearer, body: { type: 'export', params: {} } });
    expect((await waitForJob(String(exported.body['id']), bearer))['state']).toBe('succeeded');
    records = ((await api('GET', '/v1/records', { token: bearer })).body['items'] as Array<{ title: string; body: string }>).map(({ title, body }) => ({
      title,
      body,
    }));
    expect(records).toHaveLength(3);
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    // The copy restored into the database model has a database of its own on the server, which the
    // stack's teardown does not drop: offboard it (DELETE drops that database).
    const copy = await admin('GET', `/admin/v1/tenants/${tenant}-copy`, operator);
    if (copy.status === 200 && copy.body['status'] !== 'deleted') {
      expect((await admin('DELETE', `/admin/v1/tenants/${tenant}-copy?reason=e2e%20cleanup`, operator)).body['status']).toBe('deleted');
    }
  });

  async function recordsOf(id: string): Promise<Array<{ title: string; body: string }>> {
    const list = await api('GET', '/v1/records', { token: await token(id) });
    expect(list.status).toBe(200);
    return (list.body['items'] as Array<{ title: string; body: string }>).map(({ title, body }) => ({ title, body }));
  }

  it('backs a schema tenant up through a pipe and restores it as a database tenant its own token reads', async () => {
    const file = path.join(dir, 'copy.fwbak');
    const backup = await shell(`node ${TENANTCTL} tenants backup ${tenant} | cat > ${file}`, env);
    expect(backup.stderr).toMatch(new RegExp(`backup of ${tenant}: archive [0-9a-f-]{36}, .* sha256 [0-9a-f]{64}`));
    expect(readFileSync(file).subarray(0, 8).toString('latin1')).toBe('FWBAK01\n');

    const copy = `${tenant}-copy`;
    const restore = await shell(`node ${TENANTCTL} --json tenants restore ${file} --as ${copy} --model database`, env);
    expect(restore.code).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({
      tenant: { id: copy, status: 'active', isolationModel: 'database' },
      from: { tenantId: tenant, model: 'schema' },
      rows: { records: 3, jobs: 1, job_result_chunks: expect.any(Number) },
    });
    expect(await recordsOf(copy)).toEqual(records);
  });

  it('refuses a tampered archive with BACKUP_INVALID and creates nothing, and a restore over an existing tenant with TENANT_EXISTS', async () => {
    const file = path.join(dir, 'tampered.fwbak');
    const good = path.join(dir, 'copy.fwbak');
    const bytes = readFileSync(good);
    const at = bytes.length - 40;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0x10, at);
    writeFileSync(file, bytes);
    const bad = `${tenant}-bad`;
    const restore = await shell(`node ${TENANTCTL} tenants restore ${file} --as ${bad}`, env);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toMatch(/422 BACKUP_INVALID: the backup archive was refused: frame \d+ does not authenticate/);
    expect((await admin('GET', `/admin/v1/tenants/${bad}`, operator)).status).toBe(404);
    // Over the tenant it came from (still active): refused whole, the tenant untouched.
    const over = await shell(`node ${TENANTCTL} tenants restore ${good}`, env);
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(new RegExp(`409 TENANT_EXISTS: tenant '${tenant}' already exists`));
    expect(await recordsOf(tenant)).toEqual(records);
  });

  it('offboards with export then delete: the archive first, then the deletion, all in the audit chain, and the archive restores', async () => {
    const file = path.join(dir, 'offboarded.fwbak');
    const offboard = await shell(`node ${TENANTCTL} tenants offboard ${tenant} --export ${file} --yes --reason 'contract ended'`, env);
    expect(offboard.code).toBe(0);
    expect(offboard.stdout).toContain(`tenant ${tenant} is now deleted`);
    expect((await admin('GET', `/admin/v1/tenants/${tenant}`, operator)).body['status']).toBe('deleted');

    const audit = await admin('GET', `/admin/v1/audit?tenant=${tenant}`, operator);
    const actions = (audit.body['entries'] as Array<{ action: string; after?: Record<string, unknown> }>).map((e) => e.action);
    const fence = actions.lastIndexOf('tenant.delete', actions.lastIndexOf('tenant.backup'));
    expect(actions.slice(fence)).toEqual(['tenant.delete', 'tenant.backup', 'tenant.delete', 'data-keys.destroy']);
    expect((await admin('GET', `/admin/v1/audit/verify?tenant=${tenant}`, operator)).body).toMatchObject({ ok: true });

    const back = `${tenant}-back`;
    const restore = await shell(`node ${TENANTCTL} tenants restore ${file} --as ${back} --model pooled`, env);
    expect(restore.code).toBe(0);
    expect(await recordsOf(back)).toEqual(records);
  });
});
