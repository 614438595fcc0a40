/**
 * The `n` first of `items` by `compare` (negative: `a` comes first), in order, without sorting
 * them all: a bounded heap whose root is the worst item kept, so each item costs one comparison
 * with the root and, when it displaces it, O(log n) more. O(T log n) for T items, O(n) memory;
 * `tenantctl top` asks 20 of 50,000 tenants (#18). Equal items keep no particular order: give
 * `compare` a last tie-breaker (the tenant id) for a stable answer.
 */
export function selectTop<T>(items: Iterable<T>, n: number, compare: (a: T, b: T) => number): T[] {
  if (n <= 0) return [];
  const heap: T[] = [];
  // `worse(i, j)`: heap[i] comes after heap[j], so it sits nearer the root.
  const worse = (i: number, j: number) => compare(heap[i] as T, heap[j] as T) > 0;
  const swap = (i: number, j: number) => {
    const t = heap[i] as T;
    heap[i] = heap[j] as T;
    heap[j] = t;
  };
  const siftDown = (start: number) => {
    for (let i = start; ;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let top = i;
      if (left < heap.length && worse(left, top)) top = left;
      if (right < heap.length && worse(right, top)) top = right;
      if (top === i) return;
      swap(i, top);
      i = top;
    }
  };
  for (const item of items) {
    if (heap.length < n) {
      heap.push(item);
      for (let i = heap.length - 1; i > 0;) {
        const parent = (i - 1) >> 1;
        if (!worse(i, parent)) break;
        swap(i, parent);
        i = parent;
      }
    } else if (compare(item, heap[0] as T) < 0) {
      heap[0] = item;
      siftDown(0);
    }
  }
  return heap.sort(compare);
}
