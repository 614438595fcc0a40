import { Pool } from 'pg';
import { eventually, testAdminUrl, uniqueTenantId } from '@fairway/db/testing';
import { api, onboard, stack, waitForJob } from './support/stack';

/**
 * The records domain through the real edge: a tenant's records and its export/report results are
 * its own. Another tenant's credentials find nothing, whatever the route.
 */
describe('records and their exports through the edge', () => {
  const acme = uniqueTenantId('rec-acme');
  const globex = uniqueTenantId('rec-globex');
  let acmeToken: string;
  let globexToken: string;

  beforeAll(async () => {
    [acmeToken = '', globexToken = ''] = await onboard(acme, globex);
  });

  it("keeps each tenant's records to itself and exports only them", async () => {
    const created = await api('POST', '/v1/records', {
      token: acmeToken,
      body: { title: 'Invoice 1', body: 'card ending 4242', amount: '12.50', tags: ['q1'] },
    });
    expect(created.status).toBe(201);
    const id = String(created.body['id']);
    await api('POST', '/v1/records', { token: globexToken, body: { title: 'Globex secret', amount: '99' } });

    expect((await api('GET', `/v1/records/${id}`, { token: acmeToken })).body).toMatchObject({ title: 'Invoice 1', body: 'card ending 4242' });
    // Globex cannot read, change or delete acme's record: it does not exist for globex.
    expect((await api('GET', `/v1/records/${id}`, { token: globexToken })).status).toBe(404);
    expect((await api('PATCH', `/v1/records/${id}`, { token: globexToken, body: { title: 'pwned' } })).status).toBe(404);
    expect((await api('DELETE', `/v1/records/${id}`, { token: globexToken })).status).toBe(404);
    const list = await api('GET', '/v1/records', { token: globexToken });
    expect(JSON.stringify(list.body)).not.toContain('Invoice 1');

    const exported = await api('POST', '/v1/jobs', { token: acmeToken, body: { type: 'export', params: {} } });
    expect(exported.status).toBe(202);
    const job = await waitForJob(String(exported.body['id']), acmeToken);
    expect(job['state']).toBe('succeeded');
    const csv = await fetch(`${stack().edgeUrl}/v1/jobs/${String(exported.body['id'])}/result`, { headers: { authorization: `Bearer ${acmeToken}` } });
    expect(csv.status).toBe(200);
    const text = await csv.text();
    expect(text).toContain('Invoice 1');
    expect(text).toContain('card ending 4242');
    expect(text).not.toContain('Globex secret');
    // The result of acme's export is not globex's to download.
    expect((await api('GET', `/v1/jobs/${String(exported.body['id'])}/result`, { token: globexToken })).status).toBe(404);

    // What a database dump shows: the sensitive field and the stored result are ciphertext.
    const dump = new Pool({ connectionString: testAdminUrl(), max: 1 });
    try {
      const record = await dump.query<{ body: string }>('SELECT body FROM records WHERE id = $1', [id]);
      expect(record.rows[0]?.body).toMatch(/^fw1:/);
      // The result's chunk rows (migration 610), one ciphertext each.
      const artifact = await dump.query<{ body: string }>(`SELECT string_agg(body, E'\\n' ORDER BY seq) AS body FROM job_result_chunks WHERE job_id = $1`, [
        String(exported.body['id']),
      ]);
      expect(artifact.rows[0]?.body).toMatch(/^fw1:/);
      expect(artifact.rows[0]?.body).not.toContain('Invoice 1');
    } finally {
      await dump.end();
    }
  });

  it("rotates a tenant's data key and re-encrypts its records and stored results in the background, readable throughout", async () => {
    const created = await api('POST', '/v1/records', { token: acmeToken, body: { title: 'Before rotation', body: 'iban DE00 1234', amount: '1' } });
    const id = String(created.body['id']);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- shared with `npm run -s token`
    const { operatorToken } = require('../../scripts/lib/token.cjs') as { operatorToken: (o?: object) => Promise<string> };
    const headers = { authorization: `Bearer ${await operatorToken({ subject: 'e2e-key-admin' })}`, 'content-type': 'application/json' };
    const rotated = await fetch(`${stack().adminUrl}/admin/v1/tenants/${acme}/keys/rotate`, { method: 'POST', headers });
    expect(rotated.status).toBe(202);
    const { keyVersion } = (await rotated.json()) as { keyVersion: number };
    expect(keyVersion).toBeGreaterThanOrEqual(2);

    const status = await eventually(
      `the re-encryption of ${acme} to end`,
      async () => (await (await fetch(`${stack().adminUrl}/admin/v1/tenants/${acme}/keys/reencryption`, { headers })).json()) as Record<string, unknown>,
      { until: (s) => s['state'] !== 'running', timeoutMs: 30_000 },
    );
    expect(status).toMatchObject({
      state: 'done',
      toKeyVersion: keyVersion,
      tables: { 'records.body': { done: true }, 'job_artifacts.body': { done: true }, 'job_result_chunks.body': { done: true } },
    });
    expect(Number(status['reencrypted'])).toBeGreaterThanOrEqual(2);

    // What a dump shows afterwards: no value of the tenant under an older key, records nor results.
    const dump = new Pool({ connectionString: testAdminUrl(), max: 1 });
    let artifactJob: string | undefined;
    try {
      const records = await dump.query<{ body: string }>("SELECT body FROM records WHERE tenant_id = $1 AND body LIKE 'fw1:%'", [acme]);
      expect(records.rows.length).toBeGreaterThanOrEqual(2);
      expect(records.rows.filter((r) => !r.body.startsWith(`fw1:${keyVersion}:`))).toEqual([]);
      const artifacts = await dump.query<{ job_id: string; body: string }>('SELECT job_id::text AS job_id, body FROM job_result_chunks WHERE tenant_id = $1', [
        acme,
      ]);
      const lines = artifacts.rows.flatMap((a) => a.body.split('\n').filter(Boolean));
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines.filter((line) => !line.startsWith(`fw1:${keyVersion}:`))).toEqual([]);
      artifactJob = artifacts.rows[0]?.job_id;
    } finally {
      await dump.end();
    }
    expect((await api('GET', `/v1/records/${id}`, { token: acmeToken })).body['body']).toBe('iban DE00 1234');
    const result = await fetch(`${stack().edgeUrl}/v1/jobs/${artifactJob}/result`, { headers: { authorization: `Bearer ${acmeToken}` } });
    expect(await result.text()).toContain('card ending 4242');
  });
});
