import { GroupCommit } from './group-commit';
import { deferred, type Deferred } from './testing';

/** One call of the write under test: the items it got, and the deferred that settles it. */
interface WriteCall<In, Out> {
  items: In[];
  result: Deferred<Out[]>;
}

/**
 * A write the test settles by hand: every call is recorded with a deferred result, and
 * `nextCall()` resolves when the GroupCommit makes its next call (explicit readiness, no timer).
 */
class ControlledWrite<In, Out> {
  readonly calls: Array<WriteCall<In, Out>> = [];
  inFlight = 0;
  maxInFlight = 0;
  private waiters: Array<(call: WriteCall<In, Out>) => void> = [];
  private taken = 0;

  readonly write = (items: In[]): Promise<Out[]> => {
    const call: WriteCall<In, Out> = { items: [...items], result: deferred<Out[]>() };
    this.calls.push(call);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.waiters.shift()?.(call);
    return call.result.promise.finally(() => {
      this.inFlight -= 1;
    });
  };

  /** The next call not yet taken by a previous nextCall(). */
  nextCall(): Promise<WriteCall<In, Out>> {
    const index = this.taken;
    this.taken += 1;
    const made = this.calls[index];
    if (made) return Promise.resolve(made);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/**
 * One turn of the event loop. GroupCommit batches by turn (setImmediate), so letting one turn
 * pass is exactly the moment a second write would have started: this is the unit under test,
 * not a wait on time.
 */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Settles `promise` into a value the test can inspect without an unhandled rejection. */
function settled<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

describe('GroupCommit', () => {
  it('writes every item added in one turn in one call', async () => {
    const fake = new ControlledWrite<string, string>();
    const commit = new GroupCommit(fake.write);
    const results = Promise.all(['a', 'b', 'c'].map((item) => commit.add(item)));
    const call = await fake.nextCall();
    expect(call.items).toEqual(['a', 'b', 'c']);
    call.result.resolve(['A', 'B', 'C']);
    await expect(results).resolves.toEqual(['A', 'B', 'C']);
    expect(fake.calls).toHaveLength(1);
  });

  it('puts items added while a write is in flight into the next write, never two writes at once', async () => {
    const fake = new ControlledWrite<number, number>();
    const commit = new GroupCommit(fake.write);
    const first = commit.add(1);
    const firstCall = await fake.nextCall();
    expect(firstCall.items).toEqual([1]);

    const second = commit.add(2);
    const third = commit.add(3);
    await turn();
    await turn();
    expect(fake.calls).toHaveLength(1);
    expect(commit.pending).toBe(3);

    firstCall.result.resolve([10]);
    await expect(first).resolves.toBe(10);
    const secondCall = await fake.nextCall();
    expect(secondCall.items).toEqual([2, 3]);
    secondCall.result.resolve([20, 30]);
    await expect(Promise.all([second, third])).resolves.toEqual([20, 30]);
    expect(fake.maxInFlight).toBe(1);
  });

  it("settles each caller with its own item's result, in the order given", async () => {
    const fake = new ControlledWrite<string, string>();
    const commit = new GroupCommit(fake.write);
    const items = ['x', 'y', 'z', 'w'];
    const promises = items.map((item) => commit.add(item));
    const call = await fake.nextCall();
    call.result.resolve(call.items.map((item) => `result of ${item}`));
    for (let i = 0; i < items.length; i += 1) await expect(promises[i]).resolves.toBe(`result of ${items[i]}`);
  });

  it('rejects every item of a batch whose write throws, and writes the next batch normally', async () => {
    const fake = new ControlledWrite<string, string>();
    const commit = new GroupCommit(fake.write);
    const doomed = [commit.add('a'), commit.add('b')].map(settled);
    const failing = await fake.nextCall();
    const later = commit.add('c');
    const boom = new Error('connection reset');
    failing.result.reject(boom);
    expect(await Promise.all(doomed)).toEqual([
      { ok: false, error: boom },
      { ok: false, error: boom },
    ]);

    const next = await fake.nextCall();
    expect(next.items).toEqual(['c']);
    next.result.resolve(['C']);
    await expect(later).resolves.toBe('C');
  });

  it('rejects the batch when the write throws synchronously, and keeps working', async () => {
    let fail = true;
    const commit = new GroupCommit<number, number>((items) => {
      if (fail) throw new Error('not a promise: thrown at once');
      return Promise.resolve(items.map((n) => n * 2));
    });
    await expect(commit.add(1)).rejects.toThrow('not a promise: thrown at once');
    fail = false;
    await expect(commit.add(2)).resolves.toBe(4);
  });

  it('splits a backlog into writes of at most maxBatch items, in arrival order', async () => {
    const fake = new ControlledWrite<number, number>();
    const commit = new GroupCommit(fake.write, { maxBatch: 2 });
    const results = Promise.all([1, 2, 3, 4, 5].map((n) => commit.add(n)));
    const sizes: number[][] = [];
    for (let i = 0; i < 3; i += 1) {
      const call = await fake.nextCall();
      sizes.push(call.items);
      call.result.resolve(call.items.map((n) => -n));
    }
    await expect(results).resolves.toEqual([-1, -2, -3, -4, -5]);
    expect(sizes).toEqual([[1, 2], [3, 4], [5]]);
    expect(fake.maxInFlight).toBe(1);
  });

  it('allows `concurrency` writes in flight at once, no more', async () => {
    const fake = new ControlledWrite<number, number>();
    const commit = new GroupCommit(fake.write, { maxBatch: 1, concurrency: 2 });
    const results = Promise.all([1, 2, 3].map((n) => commit.add(n)));
    const a = await fake.nextCall();
    const b = await fake.nextCall();
    await turn();
    expect(fake.calls).toHaveLength(2);
    a.result.resolve([1]);
    const c = await fake.nextCall();
    b.result.resolve([2]);
    c.result.resolve([3]);
    await expect(results).resolves.toEqual([1, 2, 3]);
    expect(fake.maxInFlight).toBe(2);
  });

  it.each([
    { name: 'too few results', returned: ['only one'] },
    { name: 'too many results', returned: ['one', 'two', 'three'] },
  ])('rejects every item of a batch whose write returns $name', async ({ returned }) => {
    const fake = new ControlledWrite<string, string>();
    const commit = new GroupCommit(fake.write);
    const outcomes = Promise.all([commit.add('a'), commit.add('b')].map(settled));
    (await fake.nextCall()).result.resolve(returned);
    for (const outcome of await outcomes) {
      expect(outcome.ok).toBe(false);
      expect(String((outcome as { error: unknown }).error)).toContain(`returned ${returned.length} results for 2 items`);
    }
  });

  it('resolves idle() at once when nothing is pending', async () => {
    const commit = new GroupCommit<number, number>((items) => Promise.resolve(items));
    expect(commit.pending).toBe(0);
    await expect(commit.idle()).resolves.toBeUndefined();
  });

  it('resolves idle() only once the queue and every write in flight are drained', async () => {
    const fake = new ControlledWrite<number, number>();
    const commit = new GroupCommit(fake.write);
    const first = commit.add(1);
    const firstCall = await fake.nextCall();
    const second = settled(commit.add(2));

    let idled = false;
    const idle = commit.idle().then(() => {
      idled = true;
    });
    firstCall.result.resolve([1]);
    await first;
    const secondCall = await fake.nextCall();
    await turn();
    expect(idled).toBe(false);
    expect(commit.pending).toBe(1);

    secondCall.result.reject(new Error('the last write failed'));
    await idle;
    expect(idled).toBe(true);
    expect(commit.pending).toBe(0);
    expect((await second).ok).toBe(false);
  });
});
