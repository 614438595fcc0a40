import { readdirSync, readFileSync } from 'node:fs';
import { Pool } from 'pg';
import path from 'node:path';
import { stack } from './support/stack';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- shared with `npm run -s token`
const { operatorToken } = require(path.join(__dirname, '..', '..', 'scripts', 'lib', 'token.cjs')) as { operatorToken: (o?: object) => Promise<string> };

/** A live process of the running stack: its service (from its entry point) and its environment. */
interface StackProcess {
  pid: number;
  service: string;
  env: Record<string, string>;
}

/**
 * The stack's own service processes, found in /proc: node processes running a service's dist entry
 * point whose FAIRWAY_TOPIC_PREFIX is this stack's (other stacks may run on the same machine).
 */
function stackProcesses(): StackProcess[] {
  const found: StackProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const main = cmdline.find((arg) => /dist\/services\/[a-z-]+\/src\/main\.js$/.test(arg));
      if (!main) continue;
      const env = Object.fromEntries(
        readFileSync(`/proc/${entry}/environ`, 'utf8')
          .split('\0')
          .filter((kv) => kv.includes('='))
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
      if (env['FAIRWAY_TOPIC_PREFIX'] !== stack().topicPrefix) continue;
      found.push({ pid: Number(entry), service: /dist\/services\/([a-z-]+)\//.exec(main)![1]!, env });
    } catch {
      // a process that exited meanwhile, or one of another user
    }
  }
  return found;
}

/**
 * What each process may hold, checked on the live stack rather than in its configuration: the
 * internet-facing edge and the workers connect as the application role only and hold no
 * key-encryption key and no owner credentials; only the control plane does (docs/security.md).
 */
describe("each service's privileges, read from the live processes and their database sessions", () => {
  const processes = stackProcesses();
  const ownerPassword = new URL(stack().urls.owner).password;

  it('finds the control plane, the scheduler, the edge and both workers of this stack', () => {
    expect(processes.map((p) => p.service).sort()).toEqual(['control-plane', 'edge', 'scheduler', 'worker', 'worker']);
  });

  it.each(['edge', 'worker'])('gives the %s no key-encryption key and no owner credentials', (service) => {
    for (const p of processes.filter((q) => q.service === service)) {
      const names = Object.keys(p.env);
      expect(names.filter((n) => n.startsWith('FAIRWAY_KEK'))).toEqual([]);
      expect(names).not.toContain('EDGE_ADMIN_DATABASE_URL');
      const urls = Object.values(p.env).filter((v) => /^postgres(ql)?:\/\//.test(v));
      expect(urls.length).toBeGreaterThan(0);
      for (const url of urls) expect(new URL(url).username).toBe('fairway_app');
      expect(
        Object.values(p.env).some(
          (v) => v.includes('fairway_owner') || (ownerPassword.length > 0 && ownerPassword !== 'fairway_owner' && v.includes(ownerPassword)),
        ),
      ).toBe(false);
      expect(p.env['KEY_SERVICE_ADDRESS']).toBe(stack().controlPlane);
    }
  });

  it('sees the edge and the workers connected to PostgreSQL only as fairway_app, the scheduler as fairway_scheduler, the control plane as the owner', async () => {
    // An admin request makes the control plane use its owner pool, so that session is there to be read;
    // the edge and the workers hold a session each for the tenant catalog's LISTEN from start-up.
    const listed = await fetch(`${stack().adminUrl}/admin/v1/tenants`, {
      headers: { authorization: `Bearer ${await operatorToken({ subject: 'e2e-privileges' })}` },
    });
    expect(listed.status).toBe(200);
    const admin = new Pool({ connectionString: process.env['FAIRWAY_TEST_DATABASE_ADMIN_URL'] ?? stack().urls.owner, max: 1 });
    try {
      const { rows } = await admin.query<{ application_name: string; usename: string }>(
        `SELECT DISTINCT application_name, usename FROM pg_stat_activity WHERE application_name LIKE 'fairway-%' AND backend_type = 'client backend'`,
      );
      const rolesOf = (prefix: RegExp) => [...new Set(rows.filter((r) => prefix.test(r.application_name)).map((r) => r.usename))].sort();
      expect(rolesOf(/^fairway-edge/)).toEqual(['fairway_app']);
      expect(rolesOf(/^fairway-worker/)).toEqual(['fairway_app']);
      expect(rolesOf(/^fairway-control-plane-data/)).toEqual(['fairway_app']);
      expect(rolesOf(/^fairway-control-plane$/)).toEqual(['fairway_owner']);
      // The scheduler's sessions come and go with its work; whichever are open are its own role's.
      expect(rolesOf(/^fairway-scheduler:/)).not.toContain('fairway_owner');
      expect(rolesOf(/^fairway-scheduler:/)).not.toContain('fairway_app');
    } finally {
      await admin.end();
    }
  });
});
