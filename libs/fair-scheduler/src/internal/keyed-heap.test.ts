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
        const sorted = (): Item[] => [...live].sort((a, b) => (keyedBefore(a, b) ? -1 : keyedBefore(b, a) ? 1 : 0));
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
