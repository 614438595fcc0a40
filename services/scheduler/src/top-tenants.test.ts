import fc from 'fast-check';
import { selectTop } from './top-tenants';

const byValueThenId = (a: { id: number; v: number }, b: { id: number; v: number }) => b.v - a.v || a.id - b.id;

describe('selectTop', () => {
  it('answers what sorting everything and taking the first n answers, for any items and n', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 300 }), fc.integer({ min: 0, max: 60 }), (values, n) => {
        const items = values.map((v, id) => ({ id, v }));
        expect(selectTop(items, n, byValueThenId)).toEqual([...items].sort(byValueThenId).slice(0, n));
      }),
    );
  });

  it.each([
    ['no items', [], 3, []],
    ['n of 0', [5, 1], 0, []],
    ['a negative n', [5, 1], -1, []],
    ['fewer items than n', [1, 3, 2], 10, [3, 2, 1]],
    ['ties, broken by id', [4, 4, 4, 1], 2, [4, 4]],
  ])('handles %s', (_name, values, n, expected) => {
    const items = values.map((v, id) => ({ id, v }));
    expect(selectTop(items, n, byValueThenId).map((i) => i.v)).toEqual(expected);
  });

  it('reads its items once, from any iterable (a Map of 50,000 tenants is not copied)', () => {
    let read = 0;
    function* items() {
      for (let id = 0; id < 50_000; id++) {
        read += 1;
        yield { id, v: (id * 7919) % 50_000 };
      }
    }
    const top = selectTop(items(), 20, byValueThenId);
    expect(read).toBe(50_000);
    expect(top.map((i) => i.v)).toEqual(Array.from({ length: 20 }, (_, k) => 49_999 - k));
  });
});
