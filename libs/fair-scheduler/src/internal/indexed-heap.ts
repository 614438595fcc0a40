/**
 * An item that knows where it sits in an {@link IndexedHeap}. Storing the position on the item
 * (instead of in a side Map) is what makes remove/update O(log n) without a hash look-up, and it
 * costs one small integer per item. An item belongs to at most one heap at a time.
 */
export interface HeapItem {
  /** Position in the heap array, or -1 when the item is in no heap. */
  heapIndex: number;
}

/** `true` when `a` must come out of the heap before `b`. Must be a strict weak order. */
export type Before<T> = (a: T, b: T) => boolean;

/**
 * Children per node. 4-ary rather than binary: half the depth, and the extra comparisons per level
 * hit the same cache line. This is the usual choice for priority queues that see many
 * decrease/increase-key operations (see LaMarca & Ladner, "The influence of caches on the
 * performance of heaps", 1996).
 */
const ARITY = 4;

/**
 * A d-ary (d = 4) min-heap whose items carry their own index, so that any item can be removed or
 * re-keyed in O(log n). Used for the per-tier ready queues, the token wake-up queue and the
 * per-tenant job queues.
 */
export class IndexedHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  constructor(private readonly before: Before<T>) {}

  /** Number of items in the heap. */
  get size(): number {
    return this.items.length;
  }

  /** The first item, without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Whether `item` currently sits in this heap (checked by identity, O(1)). */
  has(item: T): boolean {
    return item.heapIndex >= 0 && this.items[item.heapIndex] === item;
  }

  /** Adds an item that is in no heap. */
  push(item: T): void {
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.siftUp(item.heapIndex);
  }

  /** Removes and returns the first item. */
  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes `item` if it is in this heap; returns whether it was. */
  remove(item: T): boolean {
    if (!this.has(item)) return false;
    const index = item.heapIndex;
    const last = this.items.pop() as T;
    item.heapIndex = -1;
    if (last !== item) {
      this.items[index] = last;
      last.heapIndex = index;
      this.update(last);
    }
    return true;
  }

  /** Restores heap order after `item`'s key changed in either direction. */
  update(item: T): void {
    const index = item.heapIndex;
    if (!this.siftUp(index)) this.siftDown(index);
  }

  /** Adds the item, or re-keys it when it is already here. */
  upsert(item: T): void {
    if (this.has(item)) this.update(item);
    else this.push(item);
  }

  /** Items in heap (not sorted) order; for diagnostics and tests only. */
  toArray(): readonly T[] {
    return this.items.slice();
  }

  private siftUp(start: number): boolean {
    const items = this.items;
    const item = items[start] as T;
    let index = start;
    while (index > 0) {
      const parentIndex = ((index - 1) / ARITY) | 0;
      const parent = items[parentIndex] as T;
      if (!this.before(item, parent)) break;
      items[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    items[index] = item;
    item.heapIndex = index;
    return index !== start;
  }

  private siftDown(start: number): void {
    const items = this.items;
    const length = items.length;
    const item = items[start] as T;
    let index = start;
    for (;;) {
      const first = index * ARITY + 1;
      if (first >= length) break;
      let best = first;
      let bestItem = items[first] as T;
      const end = Math.min(first + ARITY, length);
      for (let child = first + 1; child < end; child++) {
        const candidate = items[child] as T;
        if (this.before(candidate, bestItem)) {
          best = child;
          bestItem = candidate;
        }
      }
      if (!this.before(bestItem, item)) break;
      items[index] = bestItem;
      bestItem.heapIndex = index;
      index = best;
    }
    items[index] = item;
    item.heapIndex = index;
  }
}
