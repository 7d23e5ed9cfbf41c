/**
 * A large list as the embedded cache keeps it once a command changes it in place: its elements in a ring, so that
 * LPUSH and LPOP cost what RPUSH and RPOP do. In an array, adding or taking an element at the front moves every other
 * one (V8's `unshift`, and `shift` past 16k elements: about 1 ms a command at a million elements), where Redis's
 * quicklist does either in constant time.
 *
 * Only the list rules change it (see `rules/lists.ts`); everything else reads it as a list through {@link length},
 * {@link at}, {@link slice} and iteration, and a command ioredis-mock answers itself gets an array copy of it (as it
 * gets of any value). The codec writes it as a list: a snapshot cannot tell it from an array.
 */
/** What reads a list: an array or a {@link ListDeque} alike. */
export interface ListLike<T> {
  readonly length: number;
  at(index: number): T | undefined;
  slice(start?: number, end?: number): T[];
}

export class ListDeque<T = unknown> implements Iterable<T>, ListLike<T> {
  /** The ring: `size` elements from `head`, wrapping around; a power of two long. */
  private ring: (T | undefined)[];
  private head = 0;
  private size = 0;

  private constructor(capacity: number) {
    this.ring = new Array<T | undefined>(ringCapacity(capacity));
  }

  /** A deque of `elements` (copied), with room for as many again before it grows. */
  static from<T>(elements: readonly T[]): ListDeque<T> {
    const deque = new ListDeque<T>(2 * elements.length);
    const ring = deque.ring;
    for (let i = 0; i < elements.length; i++) ring[i] = elements[i];
    deque.size = elements.length;
    return deque;
  }

  get length(): number {
    return this.size;
  }

  /** The element at `index` (0 the first; a negative index counts from the end, as `Array.prototype.at` does). */
  at(index: number): T | undefined {
    const i = index < 0 ? index + this.size : index;
    if (i < 0 || i >= this.size) return undefined;
    return this.ring[(this.head + i) & (this.ring.length - 1)];
  }

  /** Replaces the element at `index` (0 to `length - 1`). */
  set(index: number, element: T): void {
    if (!(index >= 0 && index < this.size))
      throw new RangeError(`no element ${index} in ${this.size}`);
    this.ring[(this.head + index) & (this.ring.length - 1)] = element;
  }

  /** Elements [start, end) as an array, `end` past the last by default (indexes as {@link at}'s, clamped). */
  slice(start = 0, end = this.size): T[] {
    const from = clamp(start, this.size);
    const to = clamp(end, this.size);
    const out = new Array<T>(Math.max(0, to - from));
    const ring = this.ring;
    const mask = ring.length - 1;
    for (let i = from; i < to; i++) out[i - from] = ring[(this.head + i) & mask] as T;
    return out;
  }

  toArray(): T[] {
    return this.slice();
  }

  *[Symbol.iterator](): Iterator<T> {
    const ring = this.ring;
    const mask = ring.length - 1;
    for (let i = 0; i < this.size; i++) yield ring[(this.head + i) & mask] as T;
  }

  /** Adds `elements` at the front, one after the other (the last one given ends first, as LPUSH leaves them). */
  pushFront(elements: readonly T[]): void {
    this.reserve(elements.length);
    const mask = this.ring.length - 1;
    for (let i = 0; i < elements.length; i++) {
      this.head = (this.head - 1) & mask;
      this.ring[this.head] = elements[i];
    }
    this.size += elements.length;
  }

  /** Adds `elements` at the back, in their order. */
  pushBack(elements: readonly T[]): void {
    this.reserve(elements.length);
    const mask = this.ring.length - 1;
    for (let i = 0; i < elements.length; i++) {
      this.ring[(this.head + this.size + i) & mask] = elements[i];
    }
    this.size += elements.length;
  }

  /** Takes up to `count` elements from the front, first one first. */
  popFront(count: number): T[] {
    const n = Math.min(count, this.size);
    const out = new Array<T>(n);
    const ring = this.ring;
    const mask = ring.length - 1;
    for (let i = 0; i < n; i++) {
      out[i] = ring[this.head] as T;
      ring[this.head] = undefined; // the deque keeps no reference to what it gave away
      this.head = (this.head + 1) & mask;
    }
    this.size -= n;
    this.shrink();
    return out;
  }

  /** Takes up to `count` elements from the back, last one first. */
  popBack(count: number): T[] {
    const n = Math.min(count, this.size);
    const out = new Array<T>(n);
    const ring = this.ring;
    const mask = ring.length - 1;
    for (let i = 0; i < n; i++) {
      const at = (this.head + this.size - 1) & mask;
      out[i] = ring[at] as T;
      ring[at] = undefined;
      this.size--;
    }
    this.shrink();
    return out;
  }

  /** A copy holding the same elements (which are shared: elements are never changed). */
  copy(): ListDeque<T> {
    return ListDeque.from(this.slice());
  }

  /** Makes room for `more` elements, doubling the ring as often as needed. */
  private reserve(more: number): void {
    if (this.size + more > this.ring.length) this.relayout(this.size + more);
  }

  /** Halves the ring once it is less than a quarter full, so a list that shrank gives its memory back. */
  private shrink(): void {
    if (this.ring.length > MIN_CAPACITY && this.size < this.ring.length / 4) {
      this.relayout(2 * this.size);
    }
  }

  /** Moves the elements to the start of a new ring with room for at least `capacity`. */
  private relayout(capacity: number): void {
    const elements = this.slice();
    const ring = new Array<T | undefined>(ringCapacity(capacity));
    for (let i = 0; i < elements.length; i++) ring[i] = elements[i];
    this.ring = ring;
    this.head = 0;
  }
}

const MIN_CAPACITY = 16;

function ringCapacity(wanted: number): number {
  let capacity = MIN_CAPACITY;
  while (capacity < wanted) capacity *= 2;
  return capacity;
}

/** An index of `Array.prototype.slice`, within [0, length]. */
function clamp(index: number, length: number): number {
  if (index < 0) return Math.max(0, index + length);
  return Math.min(index, length);
}
