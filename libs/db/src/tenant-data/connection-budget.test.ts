import type { Pool } from 'pg';
import { UpstreamUnavailableError } from '@fairway/errors';
import { ConnectionBudget } from './connection-budget';

/** A stand-in for pg.Pool that only records that it was opened and ended (no I/O: unit tier). */
function fakePools() {
  const open = new Set<string>();
  const opened: string[] = [];
  return {
    open,
    opened,
    createPool: (url: string) => {
      open.add(url);
      opened.push(url);
      return { end: async () => void open.delete(url) } as unknown as Pool;
    },
  };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ConnectionBudget', () => {
  it('reuses the open pool of a database', async () => {
    const fake = fakePools();
    const budget = new ConnectionBudget({ maxConnections: 4, perPoolMax: 2, idleMs: 60_000, acquireTimeoutMs: 1_000, createPool: fake.createPool });
    await budget.use('a', 'url-a', async () => undefined);
    await budget.use('a', 'url-a', async () => undefined);
    expect(fake.opened).toEqual(['url-a']);
    await budget.end();
  });

  it('closes the least recently used idle pool to make room, never exceeding the budget', async () => {
    const fake = fakePools();
    const budget = new ConnectionBudget({ maxConnections: 4, perPoolMax: 2, idleMs: 60_000, acquireTimeoutMs: 1_000, createPool: fake.createPool });
    await budget.use('a', 'url-a', async () => undefined);
    await budget.use('b', 'url-b', async () => undefined);
    await budget.use('a', 'url-a', async () => undefined); // b is now the least recently used
    await budget.use('c', 'url-c', async () => undefined);
    expect([...fake.open].sort()).toEqual(['url-a', 'url-c']);
    expect(budget.stats().reservedConnections).toBeLessThanOrEqual(4);
    await budget.end();
  });

  it('makes a new database wait while every pool is busy, then serves it when one is released', async () => {
    const fake = fakePools();
    const budget = new ConnectionBudget({ maxConnections: 2, perPoolMax: 2, idleMs: 60_000, acquireTimeoutMs: 5_000, createPool: fake.createPool });
    const hold = deferred();
    const busy = budget.use('a', 'url-a', () => hold.promise);
    let servedB = false;
    const waiting = budget.use('b', 'url-b', async () => void (servedB = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(servedB).toBe(false);
    expect(budget.stats().waiting).toBe(1);
    hold.resolve();
    await Promise.all([busy, waiting]);
    expect(servedB).toBe(true);
    expect([...fake.open]).toEqual(['url-b']);
    await budget.end();
  });

  it('gives up with a retriable error when no pool frees up in time', async () => {
    const fake = fakePools();
    const budget = new ConnectionBudget({ maxConnections: 2, perPoolMax: 2, idleMs: 60_000, acquireTimeoutMs: 20, createPool: fake.createPool });
    const hold = deferred();
    const busy = budget.use('a', 'url-a', () => hold.promise);
    await expect(budget.use('b', 'url-b', async () => undefined)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    hold.resolve();
    await busy;
    await budget.end();
  });

  it('refuses a per-pool size larger than the whole budget', () => {
    expect(() => new ConnectionBudget({ maxConnections: 1, perPoolMax: 2, idleMs: 1, acquireTimeoutMs: 1, createPool: fakePools().createPool })).toThrow(
      RangeError,
    );
  });
});
