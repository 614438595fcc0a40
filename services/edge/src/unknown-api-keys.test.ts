import type { ApiKeyLookup, StoredApiKey } from './api-keys';
import { UnknownApiKeyCache } from './unknown-api-keys';

/** An in-memory key store that counts the lookups that reach it. */
class CountingStore implements ApiKeyLookup {
  readonly lookups: string[] = [];
  readonly touched: string[] = [];
  readonly keys = new Map<string, StoredApiKey>();
  failNext: Error | undefined;
  private release: (() => void) | undefined;
  /** While set, lookups wait until `open()` is called. */
  gate: Promise<void> | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
  }

  open(): void {
    this.release?.();
    this.gate = undefined;
  }

  async byPrefix(prefix: string): Promise<StoredApiKey | undefined> {
    this.lookups.push(prefix);
    await this.gate;
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    return this.keys.get(prefix);
  }

  touch(id: string): void {
    this.touched.push(id);
  }
}

describe('UnknownApiKeyCache', () => {
  const key: StoredApiKey = { id: 'k1', tenantId: 'acme', hash: 'ab'.repeat(32), revoked: false };

  it('answers an unknown prefix from memory for ttlMs, then asks the store again', async () => {
    let now = 0;
    const store = new CountingStore();
    const cache = new UnknownApiKeyCache(store, { ttlMs: 1_000, now: () => now });
    for (let i = 0; i < 5; i += 1) expect(await cache.byPrefix('nope')).toBeUndefined();
    expect(store.lookups).toEqual(['nope']);
    now = 1_000;
    expect(await cache.byPrefix('nope')).toBeUndefined();
    expect(store.lookups).toEqual(['nope', 'nope']);
  });

  it('never remembers a known prefix: every lookup of it reaches the store, whose own cache bounds revocation', async () => {
    const store = new CountingStore();
    store.keys.set('real', key);
    const cache = new UnknownApiKeyCache(store);
    expect(await cache.byPrefix('real')).toEqual(key);
    expect(await cache.byPrefix('real')).toEqual(key);
    expect(store.lookups).toEqual(['real', 'real']);
    expect(cache.size).toBe(0);
  });

  it('shares one store lookup among overlapping lookups of one prefix', async () => {
    const store = new CountingStore();
    store.hold();
    const cache = new UnknownApiKeyCache(store);
    const answers = Promise.all([cache.byPrefix('p'), cache.byPrefix('p'), cache.byPrefix('p')]);
    store.open();
    expect(await answers).toEqual([undefined, undefined, undefined]);
    expect(store.lookups).toEqual(['p']);
  });

  it('remembers nothing when the store fails, and passes the failure on', async () => {
    const store = new CountingStore();
    store.failNext = new Error('database unavailable');
    const cache = new UnknownApiKeyCache(store);
    await expect(cache.byPrefix('p')).rejects.toThrow('database unavailable');
    expect(await cache.byPrefix('p')).toBeUndefined();
    expect(store.lookups).toEqual(['p', 'p']);
  });

  it('remembers at most maxEntries prefixes, forgetting the oldest first', async () => {
    const store = new CountingStore();
    const cache = new UnknownApiKeyCache(store, { maxEntries: 2 });
    for (const prefix of ['a', 'b', 'c']) await cache.byPrefix(prefix);
    expect(cache.size).toBe(2);
    await cache.byPrefix('c');
    await cache.byPrefix('a');
    expect(store.lookups).toEqual(['a', 'b', 'c', 'a']);
  });

  it('passes touch on to the store', () => {
    const store = new CountingStore();
    new UnknownApiKeyCache(store).touch('k1');
    expect(store.touched).toEqual(['k1']);
  });
});
