import { ARITY } from './indexed-heap';
import type { HeapItem } from './indexed-heap';

/** A heap item ordered by two numbers: smaller `heapKey` first, then smaller `heapTie`. */
export interface KeyedItem extends HeapItem {
  heapKey: number;
  heapTie: number;
}

/** `true` when `a` comes out of a {@link KeyedHeap} before `b`. */
export function keyedBefore(a: KeyedItem, b: KeyedItem): boolean {
  return a.heapKey < b.heapKey || (a.heapKey === b.heapKey && a.heapTie < b.heapTie);
}

/**
 * The {@link IndexedHeap} of the scheduler's hot paths (the per-tier ready queues and the per-lane
 * job queues), ordered by the items' own `heapKey` then `heapTie`. Comparing two numeric fields
 * inline instead of calling an order function lets V8 inline the comparison: the function call
 * through a field shared by every heap instance was megamorphic-prone and showed up as ~9% of a
 * dispatch cycle in the profile.
 */
export class KeyedHeap<T extends KeyedItem> {
  private readonly items: T[] = [];

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
      if (!keyedBefore(item, parent)) break;
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
        if (keyedBefore(candidate, bestItem)) {
          best = child;
          bestItem = candidate;
        }
      }
      if (!keyedBefore(bestItem, item)) break;
      items[index] = bestItem;
      bestItem.heapIndex = index;
      index = best;
    }
    items[index] = item;
    item.heapIndex = index;
  }
}
