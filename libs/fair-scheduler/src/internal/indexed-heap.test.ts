import fc from 'fast-check';
import { IndexedHeap } from './indexed-heap';

class Item {
  heapIndex = -1;
  constructor(public key: number) {}
}

const byKey = (a: Item, b: Item): boolean => a.key < b.key;

function drain(heap: IndexedHeap<Item>): number[] {
  const keys: number[] = [];
  for (let item = heap.pop(); item !== undefined; item = heap.pop()) keys.push(item.key);
  return keys;
}

describe('IndexedHeap', () => {
  it.each([
    { name: 'empty', keys: [], expected: [] },
    { name: 'one item', keys: [3], expected: [3] },
    { name: 'reverse order', keys: [5, 4, 3, 2, 1], expected: [1, 2, 3, 4, 5] },
    { name: 'duplicates', keys: [2, 1, 2, 1], expected: [1, 1, 2, 2] },
    { name: 'more than one level of a 4-ary heap', keys: [9, 8, 7, 6, 5, 4, 3, 2, 1, 0], expected: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
  ])('pops items in key order: $name', ({ keys, expected }) => {
    const heap = new IndexedHeap<Item>(byKey);
    for (const key of keys) heap.push(new Item(key));
    expect(drain(heap)).toEqual(expected);
  });

  it('removes an item from the middle and clears its index', () => {
    const heap = new IndexedHeap<Item>(byKey);
    const items = [5, 1, 4, 2, 3].map((key) => new Item(key));
    for (const item of items) heap.push(item);
    expect(heap.remove(items[2] as Item)).toBe(true);
    expect((items[2] as Item).heapIndex).toBe(-1);
    expect(heap.remove(items[2] as Item)).toBe(false);
    expect(drain(heap)).toEqual([1, 2, 3, 5]);
  });

  it('re-keys an item in either direction with update()', () => {
    const heap = new IndexedHeap<Item>(byKey);
    const items = [10, 20, 30, 40].map((key) => new Item(key));
    for (const item of items) heap.push(item);
    (items[3] as Item).key = 0;
    heap.update(items[3] as Item);
    (items[0] as Item).key = 50;
    heap.update(items[0] as Item);
    expect(drain(heap)).toEqual([0, 20, 30, 50]);
  });

  it('keeps heap order under any sequence of push, pop, remove and re-key', () => {
    type Op = { kind: 'push'; key: number } | { kind: 'pop' } | { kind: 'remove'; at: number } | { kind: 'rekey'; at: number; key: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), key: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ kind: fc.constant('pop' as const) }),
      fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('rekey' as const), at: fc.nat(), key: fc.integer({ min: 0, max: 50 }) }),
    );
    fc.assert(
      fc.property(fc.array(op as fc.Arbitrary<Op>, { maxLength: 200 }), (ops) => {
        const heap = new IndexedHeap<Item>(byKey);
        const live: Item[] = [];
        for (const step of ops) {
          if (step.kind === 'push') {
            const item = new Item(step.key);
            heap.push(item);
            live.push(item);
          } else if (step.kind === 'pop') {
            const top = heap.pop();
            const min = live.reduce((m, item) => Math.min(m, item.key), Infinity);
            expect(top?.key ?? Infinity).toBe(min);
            if (top !== undefined) live.splice(live.indexOf(top), 1);
          } else if (live.length > 0) {
            const item = live[step.at % live.length] as Item;
            if (step.kind === 'remove') {
              heap.remove(item);
              live.splice(live.indexOf(item), 1);
            } else {
              item.key = step.key;
              heap.update(item);
            }
          }
          expect(heap.size).toBe(live.length);
        }
        expect(drain(heap)).toEqual(live.map((item) => item.key).sort((a, b) => a - b));
      }),
      { numRuns: 200 },
    );
  });
});
