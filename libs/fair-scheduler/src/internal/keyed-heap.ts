import type { HeapItem } from './indexed-heap';

// Same arity as IndexedHeap, declared here: an imported constant is read through a CommonJS export
// getter on every use, which showed up in the sift loops of the profile.
const ARITY = 4;

/** A heap item ordered by two numbers: smaller `heapKey` first, then smaller `heapTie`. */
export interface KeyedItem extends HeapItem {
  heapKey: number;
  heapTie: number;
}

/** Scratch of {@link sortKeyed}'s merges (emptied of its items after each sort). */
const mergeBuffer: Array<KeyedItem | undefined> = [];

/**
 * Sorts `items` in place into {@link KeyedHeap} order: a merge sort of the runs already in order,
 * so an array that is nearly sorted (a lane's queue sorted at the last switch, then popped and
 * pushed) costs O(n) comparisons, made inline (`Array.prototype.sort` called a comparison function
 * per pair: with TimSort itself, ~3% of the churn scenario's CPU samples). No two items have the same
 * key and tie, so the order is the one `sort` gave.
 */
function sortKeyed<T extends KeyedItem>(items: T[]): void {
  const n = items.length;
  let i = 1;
  while (i < n && !keyedBefore(items[i] as T, items[i - 1] as T)) i++;
  if (i >= n) return;
  const buffer = mergeBuffer as T[];
  let from = items;
  let to = buffer;
  for (;;) {
    let runs = 0;
    for (let start = 0; start < n; runs++) {
      let mid = start + 1;
      while (mid < n && !keyedBefore(from[mid] as T, from[mid - 1] as T)) mid++;
      let end = mid;
      if (mid < n) {
        end = mid + 1;
        while (end < n && !keyedBefore(from[end] as T, from[end - 1] as T)) end++;
      }
      // Merges from[start, mid) and from[mid, end) into to[start, end).
      let a = start;
      let b = mid;
      for (let k = start; k < end; k++) {
        if (b >= end || (a < mid && !keyedBefore(from[b] as T, from[a] as T))) to[k] = from[a++] as T;
        else to[k] = from[b++] as T;
      }
      start = end;
    }
    const done = to;
    to = from;
    from = done;
    if (runs <= 1) break;
  }
  if (from !== items) for (let k = 0; k < n; k++) items[k] = from[k] as T;
  // The buffer keeps no item alive (records are pooled, but a caller's spec must not be held).
  for (let k = 0; k < n; k++) mergeBuffer[k] = undefined;
}

/** `true` when `a` comes out of a {@link KeyedHeap} before `b`. */
export function keyedBefore(a: KeyedItem, b: KeyedItem): boolean {
  return a.heapKey < b.heapKey || (a.heapKey === b.heapKey && a.heapTie < b.heapTie);
}

/**
 * The {@link IndexedHeap} of the scheduler's small hot heaps (the per-lane job queues), ordered by
 * the items' own `heapKey` then `heapTie`. Comparing two numeric fields
 * inline instead of calling an order function lets V8 inline the comparison: the function call
 * through a field shared by every heap instance was megamorphic-prone and showed up as ~9% of a
 * dispatch cycle in the profile.
 *
 * While the items arrive in order (a lane's jobs of one priority: each job's tie, its sequence
 * number, is above the last), the array is kept sorted instead: a push appends, a pop takes the
 * front (`head` moves on; the slots before it are vacated, and given back once they are half the
 * array: one move per pop on average), and {@link KeyedHeap.sortedCopy} is a copy. The first item out of order, a removal from
 * the middle or a change of key turns the array into a heap (a sorted array is one) until the heap
 * is empty or sorted again. Items leave in the same order either way: no two have the same key and tie.
 */
export class KeyedHeap<T extends KeyedItem> {
  private readonly items: Array<T | undefined> = [];
  /** Sorted mode: the items are `items[head..]`, in order. Heap mode: `head` is 0. */
  private head = 0;
  private sorted = true;

  /** Number of items in the heap. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** The first item, without removing it. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  /** Whether `item` currently sits in this heap (checked by identity, O(1)). */
  has(item: T): boolean {
    return item.heapIndex >= 0 && this.items[item.heapIndex] === item;
  }

  /** Adds an item that is in no heap. */
  push(item: T): void {
    const items = this.items;
    const length = items.length;
    if (this.sorted) {
      // The emptiness test comes before the read of the last item: on an empty array that read is
      // `items[-1]`, a named-property lookup up the prototype chain that V8 does not keep on its fast
      // path (7% of the core's samples in the churn scenario, where every visitor's lane starts empty).
      if (length === this.head) {
        item.heapIndex = length;
        items.push(item);
        return;
      }
      const last = items[length - 1] as T;
      if (!(item.heapKey < last.heapKey || (item.heapKey === last.heapKey && item.heapTie < last.heapTie))) {
        item.heapIndex = length;
        items.push(item);
        return;
      }
      this.toHeap();
    }
    item.heapIndex = items.length;
    items.push(item);
    this.siftUp(item.heapIndex);
  }

  /** Removes and returns the first item. */
  pop(): T | undefined {
    const top = this.items[this.head];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes `item` if it is in this heap; returns whether it was. */
  remove(item: T): boolean {
    if (!this.has(item)) return false;
    const items = this.items;
    if (this.sorted) {
      const index = item.heapIndex;
      if (index === this.head) {
        items[index] = undefined;
        item.heapIndex = -1;
        this.head = index + 1;
        this.vacate();
        return true;
      }
      if (index === items.length - 1) {
        items.pop();
        item.heapIndex = -1;
        return true;
      }
      this.toHeap();
    }
    const index = item.heapIndex;
    item.heapIndex = -1;
    const last = items.pop() as T;
    if (index < items.length) {
      items[index] = last;
      last.heapIndex = index;
      if (!this.siftUp(index)) this.siftDown(index);
    }
    // One item or none is a sorted array.
    if (items.length <= 1) this.sorted = true;
    return true;
  }

  /** Restores heap order after `item`'s key changed in either direction. */
  update(item: T): void {
    if (this.sorted) this.toHeap();
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
    return this.items.slice(this.head) as T[];
  }

  /**
   * Sorts the items in place (a sorted array is a valid heap) and returns a copy in that order: a
   * copy while they are kept sorted; otherwise cheap when called again later, pops and pushes in
   * between leaving the array nearly sorted, which {@link sortKeyed} merges in O(n) comparisons.
   */
  sortedCopy(): T[] {
    if (!this.sorted) {
      const items = this.items as T[];
      sortKeyed(items);
      for (let i = 0; i < items.length; i++) (items[i] as T).heapIndex = i;
      this.sorted = true;
    }
    return this.items.slice(this.head) as T[];
  }

  /**
   * Moves every item to `out` from index `at` on (unsorted) and empties the heap; returns the index
   * after the last one written. Popped one by one: setting the array's length is a runtime call,
   * `pop` is not.
   */
  drainInto(out: T[], at: number): number {
    const items = this.items;
    const head = this.head;
    let end = at;
    while (items.length > head) {
      const item = items.pop() as T;
      item.heapIndex = -1;
      out[end++] = item;
    }
    while (items.length > 0) items.pop();
    this.head = 0;
    this.sorted = true;
    return end;
  }

  /** Adds items that are in no heap, then restores heap order once: O(n) for n items in all. */
  pushAll(added: readonly T[], from: number, to: number): void {
    if (to <= from) return;
    if (this.sorted) this.toHeap();
    const items = this.items;
    for (let i = from; i < to; i++) {
      const item = added[i] as T;
      item.heapIndex = items.length;
      items.push(item);
    }
    for (let i = Math.floor((items.length - 2) / ARITY); i >= 0; i--) this.siftDown(i);
  }

  /** Sorted mode -> heap mode: the sorted items are moved to the front, where they are a valid heap. */
  private toHeap(): void {
    this.compact();
    this.sorted = false;
  }

  /** Sorted mode, after a pop from the front: gives the vacated slots back once they are half the array. */
  private vacate(): void {
    const head = this.head;
    const length = this.items.length;
    if (head === length) {
      for (let i = 0; i < length; i++) this.items.pop();
      this.head = 0;
    } else if (head * 2 >= length) {
      this.compact();
    }
  }

  /** Moves `items[head..]` to the front (updating their indices) and drops the vacated slots. */
  private compact(): void {
    const head = this.head;
    if (head === 0) return;
    const items = this.items;
    const length = items.length;
    for (let i = head; i < length; i++) {
      const item = items[i] as T;
      item.heapIndex = i - head;
      items[i - head] = item;
    }
    for (let i = 0; i < head; i++) items.pop();
    this.head = 0;
  }

  private siftUp(start: number): boolean {
    const items = this.items;
    const item = items[start] as T;
    const key = item.heapKey;
    const tie = item.heapTie;
    let index = start;
    while (index > 0) {
      const parentIndex = ((index - 1) / ARITY) | 0;
      const parent = items[parentIndex] as T;
      const parentKey = parent.heapKey;
      if (!(key < parentKey || (key === parentKey && tie < parent.heapTie))) break;
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
    const key = item.heapKey;
    const tie = item.heapTie;
    let index = start;
    for (;;) {
      const first = index * ARITY + 1;
      if (first >= length) break;
      let best = first;
      let bestItem = items[first] as T;
      let bestKey = bestItem.heapKey;
      let bestTie = bestItem.heapTie;
      const end = Math.min(first + ARITY, length);
      for (let child = first + 1; child < end; child++) {
        const candidate = items[child] as T;
        const candidateKey = candidate.heapKey;
        if (candidateKey < bestKey || (candidateKey === bestKey && candidate.heapTie < bestTie)) {
          best = child;
          bestItem = candidate;
          bestKey = candidateKey;
          bestTie = candidate.heapTie;
        }
      }
      if (!(bestKey < key || (bestKey === key && bestTie < tie))) break;
      items[index] = bestItem;
      bestItem.heapIndex = index;
      index = best;
    }
    items[index] = item;
    item.heapIndex = index;
  }
}

/**
 * A {@link KeyedHeap} for the large per-tier heaps (ready lanes, GPS backlogs: one entry per active
 * tenant): the keys are copied into typed arrays beside the items, so that a sift compares
 * contiguous numbers instead of loading one object per comparison (a cache miss each with thousands
 * of tenants; comparisons were the largest item of the profile). An item's `heapKey`/`heapTie` are
 * read when it is pushed or updated: set them first, then call `push` or `update`.
 */
export class PackedKeyedHeap<T extends KeyedItem> {
  private readonly items: T[] = [];
  private keys = new Float64Array(16);
  private ties = new Float64Array(16);

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
    const index = this.items.length;
    if (index === this.keys.length) this.grow();
    this.items.push(item);
    this.keys[index] = item.heapKey;
    this.ties[index] = item.heapTie;
    item.heapIndex = index;
    this.siftUp(index);
  }

  /** The key the first item was pushed or last updated with (its own may have grown since). */
  topKey(): number {
    return this.items.length > 0 ? (this.keys[0] as number) : Infinity;
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
    const lastIndex = this.items.length - 1;
    const last = this.items.pop() as T;
    item.heapIndex = -1;
    if (last !== item) {
      this.items[index] = last;
      this.keys[index] = this.keys[lastIndex] as number;
      this.ties[index] = this.ties[lastIndex] as number;
      last.heapIndex = index;
      if (!this.siftUp(index)) this.siftDown(index);
    }
    return true;
  }

  /** Restores heap order after `item`'s `heapKey`/`heapTie` changed in either direction. */
  update(item: T): void {
    const index = item.heapIndex;
    this.keys[index] = item.heapKey;
    this.ties[index] = item.heapTie;
    if (!this.siftUp(index)) this.siftDown(index);
  }

  /** Items in heap (not sorted) order; for diagnostics and tests only. */
  toArray(): readonly T[] {
    return this.items.slice();
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
    const ties = new Float64Array(this.ties.length * 2);
    ties.set(this.ties);
    this.ties = ties;
  }

  private siftUp(start: number): boolean {
    const { items, keys, ties } = this;
    const item = items[start] as T;
    const key = keys[start] as number;
    const tie = ties[start] as number;
    let index = start;
    while (index > 0) {
      const parentIndex = ((index - 1) / ARITY) | 0;
      const parentKey = keys[parentIndex] as number;
      if (!(key < parentKey || (key === parentKey && tie < (ties[parentIndex] as number)))) break;
      const parent = items[parentIndex] as T;
      items[index] = parent;
      keys[index] = parentKey;
      ties[index] = ties[parentIndex] as number;
      parent.heapIndex = index;
      index = parentIndex;
    }
    items[index] = item;
    keys[index] = key;
    ties[index] = tie;
    item.heapIndex = index;
    return index !== start;
  }

  private siftDown(start: number): void {
    const { items, keys, ties } = this;
    const length = items.length;
    const item = items[start] as T;
    const key = keys[start] as number;
    const tie = ties[start] as number;
    let index = start;
    for (;;) {
      const first = index * ARITY + 1;
      if (first >= length) break;
      let best = first;
      let bestKey = keys[first] as number;
      let bestTie = ties[first] as number;
      const end = Math.min(first + ARITY, length);
      for (let child = first + 1; child < end; child++) {
        const childKey = keys[child] as number;
        if (childKey < bestKey || (childKey === bestKey && (ties[child] as number) < bestTie)) {
          best = child;
          bestKey = childKey;
          bestTie = ties[child] as number;
        }
      }
      if (!(bestKey < key || (bestKey === key && bestTie < tie))) break;
      const bestItem = items[best] as T;
      items[index] = bestItem;
      keys[index] = bestKey;
      ties[index] = bestTie;
      bestItem.heapIndex = index;
      index = best;
    }
    items[index] = item;
    keys[index] = key;
    ties[index] = tie;
    item.heapIndex = index;
  }
}
