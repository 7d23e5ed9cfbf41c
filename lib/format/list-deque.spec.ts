import { decodeValue, encodeValue } from './codec';
import { ListDeque } from './list-deque';

/** A seeded generator (mulberry32), so that a failure repeats. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('ListDeque', () => {
  it('reads as the array it was made from', () => {
    const deque = ListDeque.from(['a', 'b', 'c', 'd']);
    expect(deque.length).toBe(4);
    expect([deque.at(0), deque.at(3), deque.at(-1), deque.at(-4)]).toEqual(['a', 'd', 'd', 'a']);
    expect([deque.at(4), deque.at(-5)]).toEqual([undefined, undefined]);
    expect(deque.slice(1, 3)).toEqual(['b', 'c']);
    expect(deque.slice(-2)).toEqual(['c', 'd']);
    expect(deque.slice(3, 1)).toEqual([]);
    expect(deque.slice(0, 100)).toEqual(['a', 'b', 'c', 'd']);
    expect([...deque]).toEqual(['a', 'b', 'c', 'd']);
  });

  it('pushes and pops at both ends as an array would, across growth, wrap-around and shrinking', () => {
    const next = random(42);
    const deque = ListDeque.from<number>([]);
    const model: number[] = [];
    let counter = 0;
    for (let step = 0; step < 8_000; step++) {
      const op = Math.floor(next() * 6);
      // Bursts of pushes, then of pops: the ring grows to thousands, empties, and shrinks again.
      const phase = Math.floor(step / 1_000) % 2 === 0;
      const n = 1 + Math.floor(next() * 5);
      if (phase ? op < 4 : op < 2) {
        const pushed = Array.from({ length: n }, () => counter++);
        if (op % 2 === 0) {
          deque.pushFront(pushed);
          model.unshift(...[...pushed].reverse());
        } else {
          deque.pushBack(pushed);
          model.push(...pushed);
        }
      } else if (op % 2 === 0) {
        expect(deque.popFront(n)).toEqual(model.splice(0, n));
      } else {
        expect(deque.popBack(n)).toEqual(model.splice(Math.max(0, model.length - n)).reverse());
      }
      expect(deque.length).toBe(model.length);
      if (step % 97 === 0) {
        expect(deque.toArray()).toEqual(model);
        const i = Math.floor(next() * (model.length + 2)) - 1;
        expect(deque.at(i)).toBe(model.at(i));
      }
    }
    expect(deque.toArray()).toEqual(model);
    expect(deque.popFront(model.length + 5)).toEqual(model);
    expect(deque.length).toBe(0);
    expect(deque.popBack(3)).toEqual([]);
  });

  it('copies without sharing its ring, and encodes as the list it holds', () => {
    const deque = ListDeque.from(['x', Buffer.from([0xff]), 'z']);
    deque.pushFront(['w']);
    const copy = deque.copy();
    copy.popBack(1);
    expect(deque.toArray()).toEqual(['w', 'x', Buffer.from([0xff]), 'z']);
    expect(copy.toArray()).toEqual(['w', 'x', Buffer.from([0xff])]);
    const bytes = encodeValue(deque);
    expect(Buffer.from(bytes).equals(Buffer.from(encodeValue(deque.toArray())))).toBe(true);
    expect(decodeValue(bytes, 0, bytes.length)).toEqual(['w', 'x', Buffer.from([0xff]), 'z']);
  });
});
