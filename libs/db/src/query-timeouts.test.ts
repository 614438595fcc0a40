import { QueryTimeoutError, toProblem } from '@fairway/errors';
import { asQueryTimeout, currentQueryWorkload, onQueryTimeout, queryTimeoutKind, withQueryWorkload } from './query-timeouts';

describe('queryTimeoutKind: which limit ended a statement', () => {
  it.each([
    ['a statement timeout', { code: '57014', message: 'canceling statement due to statement timeout' }, 'statement'],
    ['a lock timeout', { code: '55P03', message: 'canceling statement due to lock timeout' }, 'lock'],
    ['an idle-in-transaction timeout', { code: '25P03', message: 'terminating connection due to idle-in-transaction timeout' }, 'idle_in_transaction'],
    ['a cancel request (pg_cancel_backend), not a limit', { code: '57014', message: 'canceling statement due to user request' }, undefined],
    ['NOWAIT, not a limit', { code: '55P03', message: 'could not obtain lock on row in relation "records"' }, undefined],
    ['a unique violation', { code: '23505', message: 'duplicate key value' }, undefined],
    ['not an error at all', undefined, undefined],
  ])('%s', (_name, err, kind) => {
    expect(queryTimeoutKind(err)).toBe(kind);
  });
});

describe('asQueryTimeout', () => {
  it('names tenant, limit and workload, tells the listeners, and is a 504 problem+json over HTTP', () => {
    const seen: unknown[] = [];
    const stop = onQueryTimeout((e) => seen.push(e));
    try {
      const err = asQueryTimeout({ code: '57014', message: 'canceling statement due to statement timeout' }, 'acme', 'interactive', {
        statementTimeoutMs: 300,
        lockTimeoutMs: 100,
        idleInTransactionTimeoutMs: null,
      });
      expect(err).toBeInstanceOf(QueryTimeoutError);
      expect(seen).toEqual([{ tenantId: 'acme', kind: 'statement', workload: 'interactive' }]);
      expect(toProblem(err, '/v1/jobs')).toMatchObject({
        status: 504,
        code: 'QUERY_TIMEOUT',
        retriable: false,
        timeout: 'statement',
        limitMs: 300,
        workload: 'interactive',
      });
    } finally {
      stop();
    }
  });

  it('returns any other error as it is', () => {
    const other = new Error('boom');
    expect(asQueryTimeout(other, 'acme', 'heavy', undefined)).toBe(other);
  });
});

describe('the workload scope', () => {
  it('is interactive outside withQueryWorkload and heavy inside it, across awaits', async () => {
    expect(currentQueryWorkload()).toBe('interactive');
    const inside = await withQueryWorkload('heavy', async () => {
      await Promise.resolve();
      return currentQueryWorkload();
    });
    expect(inside).toBe('heavy');
  });
});
