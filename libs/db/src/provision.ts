import { Client } from 'pg';
import { migrateCatalog } from './migrate';
import { DbRole, roleUrl, type DbRoleName } from './roles';

/** What prepareDatabase made ready: one connection URL per role. */
export interface PreparedDatabase {
  database: string;
  urls: Record<'owner' | 'app' | 'scheduler', string>;
  applied: string[];
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Creates `role` if missing, with LOGIN and the given password, never superuser nor BYPASSRLS.
 * The owner alone may create databases: onboarding a tenant of the `database` isolation model
 * creates one (and owns it, so offboarding may drop it).
 */
async function ensureRole(client: Client, role: DbRoleName, password: string): Promise<void> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  const verb = rowCount ? 'ALTER' : 'CREATE';
  const createDb = role === DbRole.owner ? 'CREATEDB' : 'NOCREATEDB';
  await client.query(`${verb} ROLE ${quoteIdent(role)} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE ${createDb} PASSWORD ${client.escapeLiteral(password)}`);
}

/**
 * Prepares the Fairway database from an admin URL (a role that may create databases and roles):
 * creates the database if missing, the three roles, and applies the catalog migrations as the owner.
 * Idempotent; safe to run on every start-up and from several processes (migrations take a lock).
 */
export async function prepareDatabase(
  adminUrl: string,
  options: { passwords?: Partial<Record<DbRoleName, string>>; log?: (msg: string) => void } = {},
): Promise<PreparedDatabase> {
  const url = new URL(adminUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'fairway';
  const log = options.log ?? (() => undefined);
  const passwords = options.passwords ?? {};

  const serverUrl = new URL(adminUrl);
  serverUrl.pathname = '/postgres';
  const server = new Client({ connectionString: serverUrl.toString() });
  await server.connect();
  try {
    const exists = await server.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!exists.rowCount) {
      log(`creating database ${database}`);
      await server.query(`CREATE DATABASE ${quoteIdent(database)}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created concurrently by another process
      });
    }
    for (const role of Object.values(DbRole)) {
      await ensureRole(server, role, passwords[role] ?? role).catch((err: { code?: string }) => {
        if (err.code !== '23505' && err.code !== '42710') throw err; // created concurrently
      });
    }
    // DROP DATABASE ... WITH (FORCE) on offboarding ends the application's sessions on the tenant's
    // database; pg_signal_backend lets the owner do that without being a superuser.
    await server.query(`GRANT pg_signal_backend TO ${DbRole.owner}`).catch((err: { code?: string }) => {
      if (err.code !== 'XX000' && err.code !== '23505') throw err; // granted concurrently
    });
  } finally {
    await server.end();
  }

  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    // The owner owns the schema's objects; the others may only use the schema.
    await client.query(`GRANT ALL ON DATABASE ${quoteIdent(database)} TO ${DbRole.owner}`);
    await client.query(`GRANT CONNECT ON DATABASE ${quoteIdent(database)} TO ${DbRole.app}, ${DbRole.scheduler}`);
    await client.query(`GRANT ALL ON SCHEMA public TO ${DbRole.owner}`);
    await client.query(`GRANT USAGE ON SCHEMA public TO ${DbRole.app}, ${DbRole.scheduler}`);
    const applied = await migrateCatalog(client, { log });
    return {
      database,
      applied,
      urls: {
        owner: roleUrl(adminUrl, DbRole.owner, passwords[DbRole.owner]),
        app: roleUrl(adminUrl, DbRole.app, passwords[DbRole.app]),
        scheduler: roleUrl(adminUrl, DbRole.scheduler, passwords[DbRole.scheduler]),
      },
    };
  } finally {
    await client.end();
  }
}
