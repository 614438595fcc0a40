import { Client } from 'pg';

/**
 * Drops a benchmark's throw-away databases on the server of `adminUrl` (connected to its `postgres`
 * database, so none of them is in use by this connection): each name in `names`, and every database
 * whose name is LIKE `like`. WITH (FORCE) ends the sessions a failed run left behind. Returns the
 * names dropped, for the bench's closing line.
 */
export async function dropBenchDatabases(adminUrl: string, which: { names?: readonly string[]; like?: string }): Promise<string[]> {
  const server = new URL(adminUrl);
  server.pathname = '/postgres';
  const cleanup = new Client({ connectionString: server.toString() });
  await cleanup.connect();
  try {
    const names = new Set(which.names ?? []);
    if (which.like !== undefined) {
      const { rows } = await cleanup.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [which.like]);
      for (const { datname } of rows) names.add(datname);
    }
    for (const name of names) await cleanup.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
    return [...names];
  } finally {
    await cleanup.end();
  }
}
