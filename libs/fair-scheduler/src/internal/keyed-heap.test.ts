import fc from 'fast-check';
import { KeyedHeap, keyedBefore, PackedKeyedHeap } from './keyed-heap';

class Item {
  heapIndex = -1;
  constructor(
    public heapKey: number,
    public heapTie: number,
  ) {}
}

type Op = { kind: 'push'; key: number } | { kind: 'pop' } | { kind: 'remove'; at: number } | { kind: 'rekey'; at: number; key: number };

const op = fc.oneof(
  fc.record({ kind: fc.constant('push' as const), key: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ kind: fc.constant('pop' as const) }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('rekey' as const), at: fc.nat(), key: fc.integer({ min: 0, max: 20 }) }),
) as fc.Arbitrary<Op>;

/** The model's order: `live` sorted as the heap pops (key, then tie). */
function inKeyOrder(live: readonly Item[]): Item[] {
  return [...live].sort((a, b) => (keyedBefore(a, b) ? -1 : keyedBefore(b, a) ? 1 : 0));
}

/**
 * Applies one push, pop, remove or re-key to `heap` and to the model `live`, checking what the heap
 * answers: a pop gives `modelTop()`, a removal finds the item and leaves it out.
 */
function applyOp(heap: KeyedHeap<Item> | PackedKeyedHeap<Item>, live: Item[], step: Op, nextTie: () => number, modelTop: () => Item | undefined): void {
  if (step.kind === 'push') {
    const item = new Item(step.key, nextTie());
    heap.push(item);
    live.push(item);
  } else if (step.kind === 'pop') {
    const expected = modelTop();
    expect(heap.pop()).toBe(expected);
    if (expected !== undefined) live.splice(live.indexOf(expected), 1);
  } else if (live.length > 0) {
    const item = live[step.at % live.length] as Item;
    if (step.kind === 'remove') {
      expect(heap.remove(item)).toBe(true);
      expect(heap.has(item)).toBe(false);
      live.splice(live.indexOf(item), 1);
    } else {
      item.heapKey = step.key;
      heap.update(item);
    }
  }
}

describe.each([
  { name: 'KeyedHeap', create: (): KeyedHeap<Item> | PackedKeyedHeap<Item> => new KeyedHeap<Item>() },
  { name: 'PackedKeyedHeap', create: (): KeyedHeap<Item> | PackedKeyedHeap<Item> => new PackedKeyedHeap<Item>() },
])('$name', ({ create }) => {
  it('pops by key, then by tie (FIFO among equal keys when ties are arrival numbers)', () => {
    const heap = create();
    const items = [new Item(2, 0), new Item(1, 1), new Item(2, 2), new Item(1, 3)];
    for (const item of items) heap.push(item);
    const order: Item[] = [];
    for (let item = heap.pop(); item !== undefined; item = heap.pop()) order.push(item);
    expect(order).toEqual([items[1], items[3], items[0], items[2]]);
    expect(items.every((item) => item.heapIndex === -1)).toBe(true);
  });

  it('pops the same item a sorted model would under any sequence of push, pop, remove and re-key', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const heap = create();
        const live: Item[] = [];
        let tie = 0;
        const modelTop = (): Item | undefined =>
          live.reduce<Item | undefined>((best, item) => (best === undefined || keyedBefore(item, best) ? item : best), undefined);
        for (const step of ops) {
          applyOp(heap, live, step, () => tie++, modelTop);
          expect(heap.size).toBe(live.length);
          expect(heap.peek()).toBe(modelTop());
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('KeyedHeap.sortedCopy', () => {
  it('returns the items in pop order and leaves a heap that pops the same items as a sorted model', () => {
    const sortStep = fc.record({ kind: fc.constant('sort' as const) });
    fc.assert(
      fc.property(fc.array(fc.oneof(op, sortStep), { maxLength: 300 }), (ops) => {
        const heap = new KeyedHeap<Item>();
        const live: Item[] = [];
        let tie = 0;
        const sorted = (): Item[] => inKeyOrder(live);
        for (const step of ops) {
          if (step.kind === 'sort') {
            expect(heap.sortedCopy()).toEqual(sorted());
          } else {
            applyOp(
              heap,
              live,
              step,
              () => tie++,
              () => sorted()[0],
            );
          }
          expect(heap.peek()).toBe(sorted()[0]);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('KeyedHeap kept sorted while items arrive in order', () => {
  // Mostly one key (items in arrival order, the sorted mode), now and then a smaller or larger one
  // (the heap mode), long enough runs of pops to give vacated slots back, and the bulk operations.
  type BulkOp = Op | { kind: 'sort' } | { kind: 'drain-refill'; keep: number };
  const inOrderOp = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('push' as const), key: fc.constantFrom(5, 5, 5, 5, 5, 5, 3, 8) }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('pop' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('rekey' as const), at: fc.nat(), key: fc.integer({ min: 0, max: 10 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('sort' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('drain-refill' as const), keep: fc.nat() }) },
  ) as fc.Arbitrary<BulkOp>;

  it('pops, sorts, drains and refills as a sorted model does', () => {
    fc.assert(
      fc.property(fc.array(inOrderOp, { maxLength: 600 }), (ops) => {
        const heap = new KeyedHeap<Item>();
        let live: Item[] = [];
        let tie = 0;
        const sorted = (): Item[] => inKeyOrder(live);
        for (const step of ops) {
          if (step.kind === 'sort') {
            expect(heap.sortedCopy()).toEqual(sorted());
          } else if (step.kind === 'drain-refill') {
            const out: Item[] = [];
            expect(heap.drainInto(out, 0)).toBe(live.length);
            expect(heap.size).toBe(0);
            expect(new Set(out)).toEqual(new Set(live));
            // Some of the drained items go back in one bulk push.
            const kept = out.slice(0, live.length === 0 ? 0 : step.keep % (live.length + 1));
            heap.pushAll(kept, 0, kept.length);
            live = kept;
          } else {
            applyOp(
              heap,
              live,
              step,
              () => tie++,
              () => sorted()[0],
            );
          }
          expect(heap.size).toBe(live.length);
          expect(heap.peek()).toBe(sorted()[0]);
          expect(live.every((item) => heap.has(item))).toBe(true);
          expect(new Set(heap.toArray())).toEqual(new Set(live));
        }
      }),
      { numRuns: 300 },
    );
  });
});
