/**
 * `sin`, `cos` and `asin` rounded to the nearest double, for GEO's distances. Redis computes a haversine distance with
 * glibc's functions, which round (nearly always) to the nearest double; V8's `Math.sin`, `Math.cos` and `Math.asin`
 * (fdlibm's) are one bit off for a few percent of arguments, and one distance in twenty (a `STOREDIST` score, written
 * with 17 digits) differed from Redis's in its last digits. Here each is computed in double-double arithmetic: a
 * series good to about 2^-80 rounds it when that decides the rounding (Ziv's test), the full series (about 2^-106)
 * otherwise. What remains are glibc's own rounding errors, about one argument in a thousand: one stored distance in
 * 500 still differs. A distance costs about 1 µs more than with `Math`.
 */

/** A double-double: the unevaluated sum `hi + lo`, `|lo|` at most half an ulp of `hi`. */
interface DD {
  readonly hi: number;
  readonly lo: number;
}

const SPLITTER = 134217729; // 2^27 + 1

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return { hi: s, lo: a - (s - bb) + (b - bb) };
}

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return { hi: s, lo: b - (s - a) };
}

function twoProd(a: number, b: number): DD {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return { hi: p, lo: ah * bh - p + ah * bl + al * bh + al * bl };
}

function add(a: DD, b: DD): DD {
  const s = twoSum(a.hi, b.hi);
  const t = twoSum(a.lo, b.lo);
  const u = quickTwoSum(s.hi, s.lo + t.hi);
  return quickTwoSum(u.hi, u.lo + t.lo);
}

function mul(a: DD, b: DD): DD {
  const p = twoProd(a.hi, b.hi);
  return quickTwoSum(p.hi, p.lo + (a.hi * b.lo + a.lo * b.hi));
}

/** `a / d` for a small whole `d`. */
function divide(a: DD, d: number): DD {
  const q1 = a.hi / d;
  const p = twoProd(q1, d);
  const s = twoSum(a.hi, -p.hi);
  const q2 = (s.hi + (s.lo - p.lo + a.lo)) / d;
  return quickTwoSum(q1, q2);
}

const neg = (a: DD): DD => ({ hi: -a.hi, lo: -a.lo });

/** π/2 in three parts, as fdlibm splits it (33 bits, 33 bits, and the rest). */
const PIO2_1 = 1.5707963267341256;
const PIO2_TAIL = add(
  add({ hi: 6.077100506303966e-11, lo: 0 }, { hi: 2.0222662487111665e-21, lo: 0 }),
  {
    hi: 8.4784276603689e-32,
    lo: 0,
  },
);

/** sin(r) and cos(r) for |r| ≤ π/4, by their Taylor series (28 terms reach below 2^-106). */
function sinCosReduced(r: DD): { sin: DD; cos: DD } {
  const r2 = mul(r, r);
  let sin = r;
  let term = r;
  for (let k = 1; k <= 14; k++) {
    term = neg(divide(mul(term, r2), 2 * k * (2 * k + 1)));
    sin = add(sin, term);
  }
  let cos: DD = { hi: 1, lo: 0 };
  term = cos;
  for (let k = 1; k <= 14; k++) {
    term = neg(divide(mul(term, r2), (2 * k - 1) * (2 * k)));
    cos = add(cos, term);
  }
  return { sin, cos };
}

/** sin(x) and cos(x) in double-double, for |x| up to a few π. */
function sinCos(x: number): { sin: DD; cos: DD } {
  const k = Math.round(x / PIO2_1);
  // k × PIO2_1 is exact (33 bits), and so is its difference with x, within a factor of 2 of it.
  const r = add({ hi: x - k * PIO2_1, lo: 0 }, neg(mul({ hi: k, lo: 0 }, PIO2_TAIL)));
  const { sin, cos } = sinCosReduced(r);
  switch (((k % 4) + 4) % 4) {
    case 0:
      return { sin, cos };
    case 1:
      return { sin: cos, cos: neg(sin) };
    case 2:
      return { sin: neg(sin), cos: neg(cos) };
    default:
      return { sin: neg(cos), cos: sin };
  }
}

const rounded = (a: DD): number => a.hi + a.lo;

// ---- the fast path: a polynomial good to about 2^-80, rounded when that decides the rounding ------------------

/** 1/n! for n = 0 … 28, in double-double. */
const INVERSE_FACTORIALS: DD[] = [{ hi: 1, lo: 0 }];
for (let n = 1; n <= 28; n++) INVERSE_FACTORIALS.push(divide(INVERSE_FACTORIALS[n - 1], n));

/**
 * Terms kept in double-double: past them a term is below 2^-25 of the value for |r| ≤ π/4, and the rest of the
 * series, in doubles, is off by less than 2^-78.
 */
const HEAD_TERMS = 5;

/** The coefficients of sin(r)/r (`offset` 1: (-1)^k/(2k+1)!) or cos(r) (`offset` 0: (-1)^k/(2k)!) in r². */
function coefficients(offset: number): { head: DD[]; tail: number[] } {
  const all: DD[] = [];
  for (let k = 0; k < 14; k++) {
    const c = INVERSE_FACTORIALS[2 * k + offset];
    all.push(k % 2 === 0 ? c : neg(c));
  }
  return { head: all.slice(0, HEAD_TERMS), tail: all.slice(HEAD_TERMS).map((c) => c.hi) };
}

const SIN_TERMS = coefficients(1);
const COS_TERMS = coefficients(0);

/** The series of `terms` in r² (Horner), the tail in doubles: sin(r)/r or cos(r), to about 2^-80. */
function series(r2: DD, terms: { head: DD[]; tail: number[] }): DD {
  let q = 0;
  for (let k = terms.tail.length - 1; k >= 0; k--) q = q * r2.hi + terms.tail[k];
  let p: DD = { hi: q, lo: 0 };
  for (let k = terms.head.length - 1; k >= 0; k--) p = add(mul(p, r2), terms.head[k]);
  return p;
}

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/**
 * `v` rounded to the nearest double, if an error of `2^-75 |v|` cannot change that rounding (Ziv's test); undefined
 * when it might (about one value in 2^22), or when `v.hi` is a power of two (its ulp changes below it).
 */
function decided(v: DD): number | undefined {
  bits[0] = v.hi;
  const exponent = (words[1] >>> 20) & 0x7ff;
  if (exponent === 0 || exponent === 0x7ff || ((words[1] & 0xfffff) === 0 && words[0] === 0))
    return undefined;
  const halfUlp = 2 ** (exponent - 1076);
  const margin = Math.abs(v.hi) * 2 ** -75;
  return Math.abs(Math.abs(v.lo) - halfUlp) > margin ? v.hi + v.lo : undefined;
}

/** sin(x) or cos(x) (`cosine`) to about 2^-80, in double-double. */
function fast(x: number, cosine: boolean): DD {
  const k = Math.round(x / PIO2_1);
  const r = add({ hi: x - k * PIO2_1, lo: 0 }, neg(mul({ hi: k, lo: 0 }, PIO2_TAIL)));
  const quadrant = ((((k % 4) + 4) % 4) + (cosine ? 1 : 0)) % 4;
  const r2 = mul(r, r);
  // sin(x + kπ/2): sin r, cos r, -sin r, -cos r; cos(x) is sin(x + π/2).
  const value = quadrant % 2 === 0 ? mul(r, series(r2, SIN_TERMS)) : series(r2, COS_TERMS);
  return quadrant >= 2 ? neg(value) : value;
}

/** sin(x), rounded to the nearest double. */
export function sin(x: number): number {
  if (!Number.isFinite(x) || x === 0 || Math.abs(x) > 8) return Math.sin(x);
  return decided(fast(x, false)) ?? rounded(sinCos(x).sin);
}

/** cos(x), rounded to the nearest double. */
export function cos(x: number): number {
  if (!Number.isFinite(x) || Math.abs(x) > 8) return Math.cos(x);
  return decided(fast(x, true)) ?? rounded(sinCos(x).cos);
}

/** asin(y), rounded to the nearest double: one Newton step in double-double from `Math.asin`. */
export function asin(y: number): number {
  if (!(Math.abs(y) < 1) || y === 0) return Math.asin(y);
  const a = Math.asin(y);
  // Near ±1 the step divides by a small cosine, and the fast sine's error with it: the exact path.
  if (Math.abs(y) < 0.99) {
    const error = add(fast(a, false), { hi: -y, lo: 0 });
    const step = (error.hi + error.lo) / rounded(fast(a, true));
    const fastResult = decided(twoSum(a, -step));
    if (fastResult !== undefined) return fastResult;
  }
  const { sin: s, cos: c } = sinCos(a);
  const exact = add(s, { hi: -y, lo: 0 });
  return rounded(twoSum(a, -(exact.hi + exact.lo) / rounded(c)));
}
