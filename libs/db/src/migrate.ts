import path from 'node:path';
import type { ClientBase } from 'pg';
import { runner } from 'node-pg-migrate';
import { DbRole } from './roles';

/** The folder of the catalog migrations (SQL files with Up and Down sections). */
export const CATALOG_MIGRATIONS_DIR = path.resolve(__dirname, '..', 'migrations', 'catalog');

/**
 * Applies the catalog migrations with node-pg-migrate, as the owner role so that every object is
 * owned by it. `client` must be a superuser or a member of the owner role.
 */
export async function migrateCatalog(
  client: ClientBase,
  options: { direction?: 'up' | 'down'; count?: number; log?: (msg: string) => void } = {},
): Promise<string[]> {
  await client.query(`SET ROLE ${DbRole.owner}`);
  try {
    const applied = await runner({
      dbClient: client,
      dir: CATALOG_MIGRATIONS_DIR,
      migrationsTable: 'fairway_migrations',
      direction: options.direction ?? 'up',
      count: options.count ?? Infinity,
      // Migrations are written on parallel branches and each stands alone, so a database that ran a
      // later one may still take an earlier one.
      checkOrder: false,
      singleTransaction: true,
      log: options.log ?? (() => undefined),
    });
    return applied.map((migration) => migration.name);
  } finally {
    await client.query('RESET ROLE');
  }
}
