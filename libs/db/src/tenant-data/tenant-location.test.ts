import { ConfigInvalidError } from '@fairway/errors';
import { databaseNameFor, databaseUrl, locationOf, schemaNameFor } from './tenant-location';

describe('tenant locations', () => {
  it('names a schema tenant_<id> with dashes as underscores', () => {
    expect(schemaNameFor('acme-eu-1')).toBe('tenant_acme_eu_1');
  });

  it('keeps long names within 63 characters and distinct', () => {
    const a = `${'a'.repeat(60)}-x1`;
    const b = `${'a'.repeat(60)}-x2`;
    expect(schemaNameFor(a).length).toBeLessThanOrEqual(63);
    expect(schemaNameFor(a)).not.toBe(schemaNameFor(b));
    expect(databaseNameFor('fairway_test', a).length).toBeLessThanOrEqual(63);
  });

  it('prefixes tenant databases with the catalog database, so two installations on one server never share one', () => {
    expect(databaseNameFor('fairway', 'acme')).toBe('fairway_t_acme');
    expect(databaseNameFor('fairway_test', 'acme')).toBe('fairway_test_t_acme');
  });

  it('builds a tenant database URL from the local catalog URL or a named server, keeping the credentials', () => {
    expect(databaseUrl('postgres://app:pw@127.0.0.1:5432/fairway', 'local', 'fairway_t_acme')).toBe('postgres://app:pw@127.0.0.1:5432/fairway_t_acme');
    expect(databaseUrl('postgres://app:pw@127.0.0.1:5432/fairway', 'eu', 'x', { eu: 'postgres://app:pw2@db-eu:5433/postgres' })).toBe(
      'postgres://app:pw2@db-eu:5433/x',
    );
    expect(() => databaseUrl('postgres://a@h/db', 'nowhere', 'x')).toThrow(ConfigInvalidError);
  });

  it.each([
    [{ isolationModel: 'pooled' as const }, { model: 'pooled' }],
    [
      { isolationModel: 'schema' as const, schemaName: 'tenant_a' },
      { model: 'schema', schema: 'tenant_a' },
    ],
    [
      { isolationModel: 'database' as const, dbName: 'd' },
      { model: 'database', server: 'local', database: 'd' },
    ],
    [
      { isolationModel: 'database' as const, dbServer: 'eu', dbName: 'd' },
      { model: 'database', server: 'eu', database: 'd' },
    ],
  ])('reads the location of %j', (entry, expected) => {
    expect(locationOf(entry)).toEqual(expected);
  });
});
