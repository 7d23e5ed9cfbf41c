/**
 * Geospatial indexes (https://redis.io/docs/latest/commands/?group=geo): GEOADD, GEOPOS, GEODIST, GEOHASH,
 * GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUS_RO, GEORADIUSBYMEMBER and GEORADIUSBYMEMBER_RO, which ioredis-mock
 * 8.13.1 lacks. A port of Redis 7.0's `geo.c`, `geohash.c` and `geohash_helper.c`: a geo index is a sorted set whose
 * scores are 52-bit interleaved geohashes (26 bits of longitude over ±180, 26 of latitude over ±85.05112878), so
 * ZRANGE, ZSCORE, ZREM, TYPE and snapshots see an ordinary sorted set. A position reads back as the centre of its
 * cell; distances are haversine ones on a sphere of radius 6372797.560856 m, written with 4 decimals; coordinates are
 * written as Redis's `addReplyHumanLongDouble` writes them (`%.17Lf`, trailing zeros dropped). A search walks the
 * same nine cells as Redis, in the same order, and sorts as Redis does (a stable sort of every candidate, or Redis's
 * partial quicksort `pqsort` when COUNT keeps fewer), so that ties and unsorted replies come in Redis's order.
 * GEOADD is ZADD of the scores it computes (as in Redis); the stores replace their destination (no TTL kept), and an
 * empty result deletes it.
 */
import {
  type CommandRule,
  copyOut,
  firstKey,
  keyName,
  memberOf,
  type KeyReader,
  reply,
  write,
} from '../command-rule';
import {
  type Arg,
  argText,
  exactBinary,
  floatArg,
  integerArg,
  optionName,
  replyError,
  SYNTAX_ERROR,
} from '../redis-replies';
import { ordered, type Scored, sortedSetRules, type SortedSet } from './sorted-sets';
import { storedSet } from './sorted-set-stores';
import { asin, cos, sin } from './geo-math';

const STEP_MAX = 26;
const LAT_MIN = -85.05112878;
const LAT_MAX = 85.05112878;
const LON_MIN = -180;
const LON_MAX = 180;
const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
const D_R = Math.PI / 180.0;
const TWO_32 = 2 ** 32;

interface Range {
  readonly min: number;
  readonly max: number;
}

const LON_RANGE: Range = { min: LON_MIN, max: LON_MAX };
const LAT_RANGE: Range = { min: LAT_MIN, max: LAT_MAX };
/** The standard ranges GEOHASH re-encodes a position with. */
const STANDARD_LAT_RANGE: Range = { min: -90, max: 90 };

const degRad = (angle: number): number => angle * D_R;
const radDeg = (angle: number): number => angle / D_R;

// ---- interleaving: latitude on the even bits, longitude on the odd ones ------------------------------------------

/** The 16 low bits of `x` spread over the even bits of a 32-bit word. */
function spread(x: number): number {
  x &= 0xffff;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  x = (x | (x << 1)) & 0x55555555;
  return x >>> 0;
}

/** The even bits of a 32-bit word, gathered into 16 bits. */
function squash(x: number): number {
  x &= 0x55555555;
  x = (x | (x >>> 1)) & 0x33333333;
  x = (x | (x >>> 2)) & 0x0f0f0f0f;
  x = (x | (x >>> 4)) & 0x00ff00ff;
  x = (x | (x >>> 8)) & 0x0000ffff;
  return x;
}

/** Redis's `interleave64(lat, lon)` as the high and low 32 bits of its result. */
function interleave(lat: number, lon: number): { hi: number; lo: number } {
  const lo = (spread(lat) | (spread(lon) << 1)) >>> 0;
  const hi = (spread(lat >>> 16) | (spread(lon >>> 16) << 1)) >>> 0;
  return { hi, lo };
}

/** Redis's `deinterleave64`: the latitude and longitude cells of a 64-bit hash given as its two halves. */
function deinterleave(hi: number, lo: number): { lat: number; lon: number } {
  return {
    lat: (squash(lo) | (squash(hi) << 16)) >>> 0,
    lon: (squash(lo >>> 1) | (squash(hi >>> 1) << 16)) >>> 0,
  };
}

const U64_TOP = 1n << 63n;

/** A double converted to `uint64_t` as gcc does on x86-64 (Redis's `(uint64_t)score`), as its two halves. */
function u64Halves(score: number): { hi: number; lo: number } {
  if (score >= 0 && score < 2 ** 53) {
    const whole = Math.trunc(score);
    const hi = Math.floor(whole / TWO_32);
    return { hi, lo: whole - hi * TWO_32 };
  }
  let bits: bigint;
  if (score < 2 ** 63) {
    bits = score >= -(2 ** 63) ? BigInt.asUintN(64, BigInt(Math.trunc(score))) : U64_TOP;
  } else {
    const shifted = score - 2 ** 63;
    bits = (shifted < 2 ** 63 ? BigInt(Math.trunc(shifted)) : U64_TOP) ^ U64_TOP;
  }
  return { hi: Number(bits >> 32n), lo: Number(bits & 0xffffffffn) };
}

// ---- geohashes ---------------------------------------------------------------------------------------------------

/** A geohash of `step` bits per coordinate (Redis's `GeoHashBits`); step 0 is the empty one (`GZERO`). */
interface Hash {
  readonly bits: bigint;
  readonly step: number;
}

/** The cell's offsets at `step` bits (Redis's `geohashEncode`), or undefined outside the ranges. */
function cellOf(
  lon: number,
  lat: number,
  step: number,
  latRange: Range,
): { lat: number; lon: number } | undefined {
  if (lon > LON_MAX || lon < LON_MIN || lat > LAT_MAX || lat < LAT_MIN) return undefined;
  if (lat < latRange.min || lat > latRange.max || lon < LON_RANGE.min || lon > LON_RANGE.max)
    return undefined;
  const latOffset = ((lat - latRange.min) / (latRange.max - latRange.min)) * 2 ** step;
  const lonOffset = ((lon - LON_RANGE.min) / (LON_RANGE.max - LON_RANGE.min)) * 2 ** step;
  // C converts the offsets to uint32_t: truncated.
  return { lat: Math.trunc(latOffset) >>> 0, lon: Math.trunc(lonOffset) >>> 0 };
}

function encode(lon: number, lat: number, step: number, latRange = LAT_RANGE): Hash {
  const cell = cellOf(lon, lat, step, latRange);
  if (cell === undefined) return { bits: 0n, step };
  const { hi, lo } = interleave(cell.lat, cell.lon);
  return { bits: (BigInt(hi) << 32n) | BigInt(lo), step };
}

/**
 * The score GEOADD gives a position: its 52-bit geohash, as the double ZADD reads from its decimal text (a position
 * on the northern or eastern edge has a bit more, and rounds as a double does above 2^53).
 */
export function scoreOf(lon: number, lat: number): number {
  const cell = cellOf(lon, lat, STEP_MAX, LAT_RANGE) as { lat: number; lon: number };
  const { hi, lo } = interleave(cell.lat, cell.lon);
  return hi * TWO_32 + lo;
}

interface Area {
  readonly lonMin: number;
  readonly lonMax: number;
  readonly latMin: number;
  readonly latMax: number;
}

/** Redis's `geohashDecode` of a hash given as its two 32-bit halves. */
function areaOf(hi: number, lo: number, step: number): Area {
  const { lat, lon } = deinterleave(hi, lo);
  const latScale = LAT_RANGE.max - LAT_RANGE.min;
  const lonScale = LON_RANGE.max - LON_RANGE.min;
  const cells = 2 ** step;
  return {
    latMin: LAT_RANGE.min + ((lat * 1.0) / cells) * latScale,
    latMax: LAT_RANGE.min + ((((lat + 1) >>> 0) * 1.0) / cells) * latScale,
    lonMin: LON_RANGE.min + ((lon * 1.0) / cells) * lonScale,
    lonMax: LON_RANGE.min + ((((lon + 1) >>> 0) * 1.0) / cells) * lonScale,
  };
}

function areaOfHash(hash: Hash): Area {
  return areaOf(Number(hash.bits >> 32n), Number(hash.bits & 0xffffffffn), hash.step);
}

/** A position: longitude, latitude. */
type Point = readonly [number, number];

/** The position a score stands for: the centre of its cell, kept within the ranges (Redis's `decodeGeohash`). */
export function positionOf(score: number): Point {
  const { hi, lo } = u64Halves(score);
  const area = areaOf(hi, lo, STEP_MAX);
  let lon = (area.lonMin + area.lonMax) / 2;
  if (lon > LON_MAX) lon = LON_MAX;
  if (lon < LON_MIN) lon = LON_MIN;
  let lat = (area.latMin + area.latMax) / 2;
  if (lat > LAT_MAX) lat = LAT_MAX;
  if (lat < LAT_MIN) lat = LAT_MIN;
  return [lon, lat];
}

const EVEN = 0x5555555555555555n;
const ODD = 0xaaaaaaaaaaaaaaaan;
const U64 = (n: bigint): bigint => BigInt.asUintN(64, n);

/** Redis's `geohash_move_x` (`odd`, the longitude) and `geohash_move_y`. */
function moved(hash: Hash, d: number, odd: boolean): Hash {
  if (d === 0) return hash;
  const shift = BigInt(64 - hash.step * 2);
  let x = hash.bits & (odd ? ODD : EVEN);
  const y = hash.bits & (odd ? EVEN : ODD);
  const zz = (odd ? EVEN : ODD) >> shift;
  x = d > 0 ? U64(x + (zz + 1n)) : U64((x | zz) - (zz + 1n));
  x &= (odd ? ODD : EVEN) >> shift;
  return { bits: x | y, step: hash.step };
}

const neighbour = (hash: Hash, dx: number, dy: number): Hash =>
  moved(moved(hash, dx, true), dy, false);

const ZERO: Hash = { bits: 0n, step: 0 };
const isZero = (hash: Hash): boolean => hash.bits === 0n && hash.step === 0;

// ---- distances -------------------------------------------------------------------------------------------------

function latDistance(lat1: number, lat2: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(degRad(lat2) - degRad(lat1));
}

/** Redis's `geohashGetDistance`: haversine, in meters. */
export function distanceOf(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lon1r = degRad(lon1);
  const lon2r = degRad(lon2);
  const v = sin((lon2r - lon1r) / 2);
  if (v === 0.0) return latDistance(lat1, lat2);
  const lat1r = degRad(lat1);
  const lat2r = degRad(lat2);
  const u = sin((lat2r - lat1r) / 2);
  const a = u * u + cos(lat1r) * cos(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * asin(Math.sqrt(a));
}

// ---- number formatting -----------------------------------------------------------------------------------------

/**
 * `x` with `digits` decimals as glibc's `printf("%.<digits>f")` writes it: its exact value rounded to nearest, ties to
 * even; `inf`, `-inf`, `-nan`/`nan`.
 */
export function fixedText(x: number, digits: number): string {
  if (Number.isNaN(x)) return '-nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const negative = x < 0 || Object.is(x, -0);
  let scaled = 0n;
  if (x !== 0) {
    const { mantissa, exponent } = exactBinary(x);
    const scale = 10n ** BigInt(digits);
    if (exponent >= 0) scaled = (mantissa << BigInt(exponent)) * scale;
    else {
      const numerator = mantissa * scale;
      const denominator = 1n << BigInt(-exponent);
      scaled = numerator / denominator;
      const twice = 2n * (numerator % denominator);
      if (twice > denominator || (twice === denominator && scaled % 2n === 1n)) scaled++;
    }
  }
  const text = scaled.toString().padStart(digits + 1, '0');
  const whole = text.slice(0, text.length - digits);
  return `${negative ? '-' : ''}${whole}${digits > 0 ? `.${text.slice(text.length - digits)}` : ''}`;
}

/** A coordinate as Redis's `addReplyHumanLongDouble` writes it: `%.17Lf`, trailing zeros (and the dot) dropped. */
export function humanText(x: number): string {
  let text = fixedText(x, 17);
  if (text.includes('.')) text = text.replace(/0+$/, '').replace(/\.$/, '');
  return text === '-0' ? '0' : text;
}

/** A distance as Redis's `addReplyDoubleDistance` writes it (`fixedpoint_d2string` with 4 decimals: `llrint`). */
export function distanceText(d: number): string {
  if (d === 0) return '0.0000';
  const scaled = d * 10000;
  const floor = Math.floor(scaled);
  const fraction = scaled - floor;
  const rounded = fraction > 0.5 || (fraction === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  const negative = rounded < 0;
  const digits = BigInt(Math.abs(rounded)).toString().padStart(5, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -4)}.${digits.slice(-4)}`;
}

// ---- arguments -------------------------------------------------------------------------------------------------

const UNITS: Readonly<Record<string, number>> = { M: 1, KM: 1000, FT: 0.3048, MI: 1609.34 };
const UNSUPPORTED_UNIT = 'ERR unsupported unit provided. please use M, KM, FT, MI';

/** The meters in one `unit` (Redis's `extractUnitOrReply`). */
function unitOf(arg: Arg): number {
  const name = argText(arg).toUpperCase();
  if (!Object.hasOwn(UNITS, name)) throw replyError(UNSUPPORTED_UNIT);
  return UNITS[name];
}

/** A longitude and a latitude (Redis's `extractLongLatOrReply`). */
function lonLatOf(lon: Arg, lat: Arg): Point {
  const x = floatArg(lon);
  const y = floatArg(lat);
  if (x < LON_MIN || x > LON_MAX || y < LAT_MIN || y > LAT_MAX) {
    throw replyError(`ERR invalid longitude,latitude pair ${fixedText(x, 6)},${fixedText(y, 6)}`);
  }
  return [x, y];
}

/** A radius and its unit (Redis's `extractDistanceOrReply`). */
function radiusOf(radius: Arg, unit: Arg): { radius: number; conversion: number } {
  const r = floatArg(radius, 'ERR need numeric radius');
  if (r < 0) throw replyError('ERR radius cannot be negative');
  return { radius: r, conversion: unitOf(unit) };
}

/** A box's width, height and unit (Redis's `extractBoxOrReply`). */
function boxOf(
  width: Arg,
  height: Arg,
  unit: Arg,
): { width: number; height: number; conversion: number } {
  const w = floatArg(width, 'ERR need numeric width');
  const h = floatArg(height, 'ERR need numeric height');
  if (h < 0 || w < 0) throw replyError('ERR height or width cannot be negative');
  return { width: w, height: h, conversion: unitOf(unit) };
}

const COULD_NOT_DECODE = 'ERR could not decode requested zset member';

/** The position of `member` in `set` (Redis's `longLatFromMember`), or its error. */
function memberPosition(set: SortedSet, member: Arg): Point {
  const found = set.get(memberOf(member));
  if (found === undefined) throw replyError(COULD_NOT_DECODE);
  return positionOf(found.score);
}

// ---- searches --------------------------------------------------------------------------------------------------

const COORDS = 1;
const MEMBER = 2;
const NOSTORE = 4;
const GEOSEARCH = 8;
const GEOSEARCHSTORE = 16;

const SORT_NONE = 0;
const SORT_ASC = 1;
const SORT_DESC = 2;

/** The area searched (Redis's `GeoShape`): around `center`, a circle of `radius` or a box, in the unit's meters. */
interface Shape {
  circle: boolean;
  center: Point;
  radius: number;
  width: number;
  height: number;
  conversion: number;
}

/** A search, parsed as Redis's `georadiusGeneric` parses it. */
interface Search {
  readonly store: Arg | undefined;
  readonly storeDist: boolean;
  readonly shape: Shape;
  readonly withDist: boolean;
  readonly withHash: boolean;
  readonly withCoord: boolean;
  readonly sort: number;
  readonly any: boolean;
  /** 0: no COUNT. */
  readonly count: number;
}

/** How each search command is run: where its source key is, and its Redis flags. */
const SEARCHES: Readonly<Record<string, { readonly source: number; readonly flags: number }>> = {
  georadius: { source: 0, flags: COORDS },
  georadius_ro: { source: 0, flags: COORDS | NOSTORE },
  georadiusbymember: { source: 0, flags: MEMBER },
  georadiusbymember_ro: { source: 0, flags: MEMBER | NOSTORE },
  geosearch: { source: 0, flags: GEOSEARCH },
  geosearchstore: { source: 1, flags: GEOSEARCH | GEOSEARCHSTORE },
};

/**
 * Parses a search's arguments (`args` without the command's name) in Redis's order, with its errors; `set` is the
 * source (its members are looked up as the arguments are read). The source's type has been checked.
 */
function searchOf(command: string, args: readonly Arg[], set: SortedSet | undefined): Search {
  const { flags } = SEARCHES[command];
  const argc = args.length + 1;
  let store: Arg | undefined;
  let storeDist = false;
  const shape: Shape = {
    circle: false,
    center: [0, 0],
    radius: 0,
    width: 0,
    height: 0,
    conversion: 0,
  };
  let base: number;
  if (flags & COORDS) {
    base = 6;
    shape.circle = true;
    shape.center = lonLatOf(args[1], args[2]);
    Object.assign(shape, radiusOf(args[3], args[4]));
  } else if (flags & MEMBER && set === undefined) {
    base = 5;
  } else if (flags & MEMBER) {
    base = 5;
    shape.circle = true;
    shape.center = memberPosition(set as SortedSet, args[1]);
    Object.assign(shape, radiusOf(args[2], args[3]));
  } else {
    base = 2;
    if (flags & GEOSEARCHSTORE) {
      base = 3;
      store = args[0];
    }
  }
  let withDist = false;
  let withHash = false;
  let withCoord = false;
  let fromMember = false;
  let fromLonLat = false;
  let byRadius = false;
  let byBox = false;
  let sort = SORT_NONE;
  let any = false;
  let count = 0;
  const remaining = argc - base;
  const at = (i: number): Arg => args[base - 1 + i];
  for (let i = 0; i < remaining; i++) {
    const option = optionName(at(i));
    if (option === 'WITHDIST') withDist = true;
    else if (option === 'WITHHASH') withHash = true;
    else if (option === 'WITHCOORD') withCoord = true;
    else if (option === 'ANY') any = true;
    else if (option === 'ASC') sort = SORT_ASC;
    else if (option === 'DESC') sort = SORT_DESC;
    else if (option === 'COUNT' && i + 1 < remaining) {
      const n = integerArg(at(i + 1));
      if (n <= 0n) throw replyError('ERR COUNT must be > 0');
      count = Number(n);
      i++;
    } else if (
      (option === 'STORE' || option === 'STOREDIST') &&
      i + 1 < remaining &&
      !(flags & NOSTORE) &&
      !(flags & GEOSEARCH)
    ) {
      store = at(i + 1);
      storeDist = option === 'STOREDIST';
      i++;
    } else if (option === 'STOREDIST' && flags & GEOSEARCH && flags & GEOSEARCHSTORE) {
      storeDist = true;
    } else if (option === 'FROMMEMBER' && i + 1 < remaining && flags & GEOSEARCH && !fromLonLat) {
      // Without a source, the arguments are still parsed, and the reply is empty.
      if (set !== undefined) shape.center = memberPosition(set, at(i + 1));
      fromMember = true;
      i++;
    } else if (option === 'FROMLONLAT' && i + 2 < remaining && flags & GEOSEARCH && !fromMember) {
      shape.center = lonLatOf(at(i + 1), at(i + 2));
      fromLonLat = true;
      i += 2;
    } else if (option === 'BYRADIUS' && i + 2 < remaining && flags & GEOSEARCH && !byBox) {
      Object.assign(shape, radiusOf(at(i + 1), at(i + 2)));
      shape.circle = true;
      byRadius = true;
      i += 2;
    } else if (option === 'BYBOX' && i + 3 < remaining && flags & GEOSEARCH && !byRadius) {
      Object.assign(shape, boxOf(at(i + 1), at(i + 2), at(i + 3)));
      shape.circle = false;
      byBox = true;
      i += 3;
    } else throw replyError(SYNTAX_ERROR);
  }
  if (store !== undefined && (withDist || withHash || withCoord)) {
    const who = flags & GEOSEARCHSTORE ? 'GEOSEARCHSTORE' : 'STORE option in GEORADIUS';
    throw replyError(`ERR ${who} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
  }
  if (flags & GEOSEARCH && !(fromMember || fromLonLat)) {
    throw replyError(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${command}`);
  }
  if (flags & GEOSEARCH && !(byRadius || byBox)) {
    throw replyError(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${command}`);
  }
  if (any && count === 0) throw replyError('ERR the ANY argument requires COUNT argument');
  // COUNT without an order keeps the nearest (not with ANY).
  if (count !== 0 && sort === SORT_NONE && !any) sort = SORT_ASC;
  return { store, storeDist, shape, withDist, withHash, withCoord, sort, any, count };
}

/** A point found (Redis's `geoPoint`). */
interface Found {
  readonly lon: number;
  readonly lat: number;
  dist: number;
  readonly score: number;
  readonly member: string | Buffer;
}

/** The bounding box of the shape (Redis's `geohashBoundingBox`): min lon, min lat, max lon, max lat. */
function boundsOf(shape: Shape): readonly [number, number, number, number] {
  const [longitude, latitude] = shape.center;
  const height = shape.conversion * (shape.circle ? shape.radius : shape.height / 2);
  const width = shape.conversion * (shape.circle ? shape.radius : shape.width / 2);
  const latDelta = radDeg(height / EARTH_RADIUS_IN_METERS);
  const lonDeltaTop = radDeg(width / EARTH_RADIUS_IN_METERS / cos(degRad(latitude + latDelta)));
  const lonDeltaBottom = radDeg(width / EARTH_RADIUS_IN_METERS / cos(degRad(latitude - latDelta)));
  const southern = latitude < 0;
  return [
    southern ? longitude - lonDeltaBottom : longitude - lonDeltaTop,
    latitude - latDelta,
    southern ? longitude + lonDeltaBottom : longitude + lonDeltaTop,
    latitude + latDelta,
  ];
}

/** Redis's `geohashEstimateStepsByRadius`. */
function stepsFor(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  return Math.min(26, Math.max(1, step));
}

/**
 * The nine cells to search, in Redis's order (centre, N, S, E, W, NE, NW, SE, SW), the useless ones empty
 * (Redis's `geohashCalculateAreasByShapeWGS84`).
 */
function cellsOf(shape: Shape): Hash[] {
  const [minLon, minLat, maxLon, maxLat] = boundsOf(shape);
  const [longitude, latitude] = shape.center;
  const radiusMeters =
    (shape.circle
      ? shape.radius
      : Math.sqrt(
          (shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2),
        )) * shape.conversion;
  let steps = stepsFor(radiusMeters, latitude);
  let hash = encode(longitude, latitude, steps);
  let area = areaOfHash(hash);
  const near = (h: Hash): Area => areaOfHash(h);
  const decrease =
    near(neighbour(hash, 0, 1)).latMax < maxLat ||
    near(neighbour(hash, 0, -1)).latMin > minLat ||
    near(neighbour(hash, 1, 0)).lonMax < maxLon ||
    near(neighbour(hash, -1, 0)).lonMin > minLon;
  if (steps > 1 && decrease) {
    steps--;
    hash = encode(longitude, latitude, steps);
    area = areaOfHash(hash);
  }
  // centre, N, S, E, W, NE, NW, SE, SW
  const moves: readonly (readonly [number, number])[] = [
    [0, 0],
    [0, 1],
    [0, -1],
    [1, 0],
    [-1, 0],
    [1, 1],
    [-1, 1],
    [1, -1],
    [-1, -1],
  ];
  const cells = moves.map(([dx, dy]) => (dx === 0 && dy === 0 ? hash : neighbour(hash, dx, dy)));
  if (steps >= 2) {
    const drop = (indexes: number[]): void => indexes.forEach((i) => (cells[i] = ZERO));
    if (area.latMin < minLat) drop([2, 8, 7]);
    if (area.latMax > maxLat) drop([1, 5, 6]);
    if (area.lonMin < minLon) drop([4, 8, 6]);
    if (area.lonMax > maxLon) drop([3, 7, 5]);
  }
  return cells;
}

/** The first member whose score is `min` or more. */
function firstFrom(members: readonly Scored[], min: number): number {
  let low = 0;
  let high = members.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (members[middle].score < min) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Whether the point is in the shape, and its distance from the centre (Redis's `geoWithinShape`). */
function distanceWithin(shape: Shape, lon: number, lat: number): number | undefined {
  const [x1, y1] = shape.center;
  if (shape.circle) {
    const distance = distanceOf(x1, y1, lon, lat);
    return distance > shape.radius * shape.conversion ? undefined : distance;
  }
  const widthM = shape.width * shape.conversion;
  const heightM = shape.height * shape.conversion;
  if (latDistance(lat, y1) > heightM / 2) return undefined;
  if (distanceOf(lon, lat, x1, lat) > widthM / 2) return undefined;
  return distanceOf(x1, y1, lon, lat);
}

/** The members in the shape, in the order Redis finds them (Redis's `membersOfAllNeighbors`); `limit` 0: all. */
function membersIn(set: SortedSet, shape: Shape, limit: number): Found[] {
  const members = ordered(set);
  const cells = cellsOf(shape);
  const found: Found[] = [];
  let last = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (isZero(cell)) continue;
    // A huge radius may give the same cell twice in a row: it is searched once.
    if (last !== 0 && cell.bits === cells[last].bits && cell.step === cells[last].step) continue;
    if (found.length > 0 && limit !== 0 && found.length >= limit) break;
    const shift = BigInt(52 - cell.step * 2);
    const min = Number(cell.bits << shift);
    const max = Number((cell.bits + 1n) << shift);
    for (let j = firstFrom(members, min); j < members.length; j++) {
      const { score, value } = members[j];
      if (!(score < max)) break;
      const [lon, lat] = positionOf(score);
      const dist = distanceWithin(shape, lon, lat);
      if (dist !== undefined) found.push({ lon, lat, dist, score, member: value });
      if (found.length > 0 && limit !== 0 && found.length >= limit) break;
    }
    last = i;
  }
  return found;
}

type Compare<T = Found> = (a: T, b: T) => number;

const ascending: Compare = (a, b) => (a.dist > b.dist ? 1 : a.dist === b.dist ? 0 : -1);
const descending: Compare = (a, b) => -ascending(a, b);

/** Redis's `med3`. */
function median<T>(items: T[], a: number, b: number, c: number, cmp: Compare<T>): number {
  return cmp(items[a], items[b]) < 0
    ? cmp(items[b], items[c]) < 0
      ? b
      : cmp(items[a], items[c]) < 0
        ? c
        : a
    : cmp(items[b], items[c]) > 0
      ? b
      : cmp(items[a], items[c]) < 0
        ? a
        : c;
}

function swap<T>(items: T[], i: number, j: number): void {
  const t = items[i];
  items[i] = items[j];
  items[j] = t;
}

/** Redis's `vecswap`: swaps the `n` items from `i` with the `n` from `j`, pairwise. */
function vecswap<T>(items: T[], i: number, j: number, n: number): void {
  for (let k = 0; k < n; k++) swap(items, i + k, j + k);
}

/**
 * Redis's `pqsort` (Bentley and McIlroy's quicksort, partial): sorts `items` enough that positions `left` to `right`
 * hold what a full sort puts there, in the order Redis leaves them (it is not stable).
 */
export function pqsort<T>(items: T[], cmp: Compare<T>, left: number, right: number): void {
  const sortRange = (start: number, length: number): void => {
    let a = start;
    let n = length;
    for (;;) {
      if (n < 7) {
        for (let m = a + 1; m < a + n; m++) {
          for (let l = m; l > a && cmp(items[l - 1], items[l]) > 0; l--) swap(items, l, l - 1);
        }
        return;
      }
      let pm = a + Math.floor(n / 2);
      if (n > 7) {
        let pl = a;
        let pn = a + n - 1;
        if (n > 40) {
          const d = Math.floor(n / 8);
          pl = median(items, pl, pl + d, pl + 2 * d, cmp);
          pm = median(items, pm - d, pm, pm + d, cmp);
          pn = median(items, pn - 2 * d, pn - d, pn, cmp);
        }
        pm = median(items, pl, pm, pn, cmp);
      }
      swap(items, a, pm);
      let pa = a + 1;
      let pb = pa;
      let pc = a + n - 1;
      let pd = pc;
      for (;;) {
        let result: number;
        while (pb <= pc && (result = cmp(items[pb], items[a])) <= 0) {
          if (result === 0) {
            swap(items, pa, pb);
            pa++;
          }
          pb++;
        }
        while (pb <= pc && (result = cmp(items[pc], items[a])) >= 0) {
          if (result === 0) {
            swap(items, pc, pd);
            pd--;
          }
          pc--;
        }
        if (pb > pc) break;
        swap(items, pb, pc);
        pb++;
        pc--;
      }
      const pn = a + n;
      let r = Math.min(pa - a, pb - pa);
      vecswap(items, a, pb - r, r);
      r = Math.min(pd - pc, pn - pd - 1);
      vecswap(items, pb, pn - r, r);
      const outside = (l: number, rr: number): boolean =>
        (left < l && right < l) || (left > rr && right > rr);
      r = pb - pa;
      if (r > 1 && !outside(a, a + r - 1)) sortRange(a, r);
      r = pd - pc;
      if (r <= 1) return;
      a = pn - r;
      n = r;
      if (outside(a, a + r - 1)) return;
    }
  };
  sortRange(0, items.length);
}

/** What a search answers, and for a store what it stores. */
export interface SearchResult {
  readonly answer: unknown;
  /** A store's destination and members (none: the destination is deleted). */
  readonly store?: { readonly key: Arg; readonly members: readonly Scored[] };
}

/** Runs a search (`args` without the command's name) over the stored values (the source's type checked). */
export function search(
  command: string,
  args: readonly Arg[],
  lookup: (key: string) => unknown,
): SearchResult {
  const set = lookup(keyName(args[SEARCHES[command].source])) as SortedSet | undefined;
  const query = searchOf(command, args, set);
  if (set === undefined) {
    return query.store === undefined
      ? { answer: [] }
      : { answer: 0, store: { key: query.store, members: [] } };
  }
  const found = membersIn(set, query.shape, query.any ? query.count : 0);
  const returned = query.count === 0 || found.length < query.count ? found.length : query.count;
  if (query.sort !== SORT_NONE) {
    const cmp = query.sort === SORT_ASC ? ascending : descending;
    // glibc's qsort is a merge sort (stable) for arrays of this size.
    if (returned === found.length) found.sort(cmp);
    else pqsort(found, cmp, 0, returned - 1);
  }
  const kept = found.slice(0, returned);
  for (const point of kept) point.dist /= query.shape.conversion;
  if (query.store !== undefined) {
    const members = kept.map((p) => ({
      score: query.storeDist ? p.dist : p.score,
      value: p.member,
    }));
    return { answer: returned, store: { key: query.store, members } };
  }
  const options = query.withDist || query.withHash || query.withCoord;
  return {
    answer: kept.map((p) => {
      const member = copyOut(p.member);
      if (!options) return member;
      const entry: unknown[] = [member];
      if (query.withDist) entry.push(distanceText(p.dist));
      if (query.withHash) entry.push(Math.trunc(p.score));
      if (query.withCoord) entry.push([humanText(p.lon), humanText(p.lat)]);
      return entry;
    }),
  };
}

// ---- the other commands ----------------------------------------------------------------------------------------

const GEOHASH_ALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';

/** GEOHASH's 11 characters for a score: its position re-encoded over latitudes ±90. */
function geohashText(score: number): string {
  const [lon, lat] = positionOf(score);
  const { bits } = encode(lon, lat, STEP_MAX, STANDARD_LAT_RANGE);
  let text = '';
  for (let i = 0; i < 11; i++) {
    const index = i === 10 ? 0 : Number((bits >> BigInt(52 - (i + 1) * 5)) & 0x1fn);
    text += GEOHASH_ALPHABET[index];
  }
  return text;
}

function scoreIn(set: SortedSet | undefined, member: Arg): number | undefined {
  return set?.get(memberOf(member))?.score;
}

/** GEOPOS's reply: each member's position, or null. */
export function positions(set: SortedSet | undefined, members: readonly Arg[]): unknown {
  return members.map((member) => {
    const score = scoreIn(set, member);
    if (score === undefined) return null;
    const [lon, lat] = positionOf(score);
    return [humanText(lon), humanText(lat)];
  });
}

/** GEOHASH's reply: each member's geohash, or null. */
export function geohashes(set: SortedSet | undefined, members: readonly Arg[]): unknown {
  return members.map((member) => {
    const score = scoreIn(set, member);
    return score === undefined ? null : geohashText(score);
  });
}

/** GEODIST's unit (checked before the key is looked up): meters per unit. */
function geodistUnit(args: readonly Arg[]): number {
  if (args.length === 4) return unitOf(args[3]);
  if (args.length > 4) throw replyError(SYNTAX_ERROR);
  return 1;
}

/** GEODIST's reply. */
export function geodist(set: SortedSet | undefined, args: readonly Arg[]): string | null {
  const toMeter = geodistUnit(args);
  const first = scoreIn(set, args[1]);
  const second = scoreIn(set, args[2]);
  if (first === undefined || second === undefined) return null;
  const [lon1, lat1] = positionOf(first);
  const [lon2, lat2] = positionOf(second);
  return distanceText(distanceOf(lon1, lat1, lon2, lat2) / toMeter);
}

/**
 * GEOADD key [NX|XX] [CH] longitude latitude member […] as the ZADD Redis makes of it (`zadd` arguments: the key, the
 * options, then score-member pairs), its syntax and coordinates checked in Redis's order.
 */
export function geoaddAsZadd(args: readonly Arg[]): Arg[] {
  let at = 1;
  let nx = false;
  let xx = false;
  for (; at < args.length; at++) {
    const option = optionName(args[at]);
    if (option === 'NX') nx = true;
    else if (option === 'XX') xx = true;
    else if (option !== 'CH') break;
  }
  if ((args.length - at) % 3 !== 0 || (nx && xx)) throw replyError(SYNTAX_ERROR);
  const zadd: Arg[] = args.slice(0, at);
  for (let i = at; i < args.length; i += 3) {
    const [lon, lat] = lonLatOf(args[i], args[i + 1]);
    zadd.push(String(scoreOf(lon, lat)), args[i + 2]);
  }
  return zadd;
}

// ---- rules -----------------------------------------------------------------------------------------------------

function setOf(reader: KeyReader, key: Arg): SortedSet | undefined {
  return reader.valueOf(keyName(key)) as SortedSet | undefined;
}

/** GEOADD: ZADD of the computed scores, through ZADD's rule (its options, its WRONGTYPE, its write). */
const geoadd: CommandRule = {
  arity: -5,
  parse: (args) => {
    geoaddAsZadd(args);
  },
  check: (args, reader) => {
    const zadd = geoaddAsZadd(args);
    const outcome = sortedSetRules.zadd.check?.(zadd, reader, 'zadd') ?? { args: zadd };
    return 'args' in outcome ? { ...outcome, command: 'zadd' } : outcome;
  },
};

/** A search command: answered here, a store written here (or by its added command, on a reader of no keyspace). */
function searchRule(command: string, arity: number): CommandRule {
  const { source } = SEARCHES[command];
  return {
    arity,
    type: ['zset'],
    keys: (args) => [args[source]],
    check: (args, reader) => {
      const result = search(command, args, (key) => reader.valueOf(key));
      const store = result.store;
      if (store === undefined) return reply(result.answer);
      const writer = reader.writer;
      if (writer === undefined) return undefined;
      const key = keyName(store.key);
      // An empty result deletes the destination; Redis does not look it up otherwise (nor counts it as used).
      if (store.members.length === 0 && writer.bytesOf(key) === 0) return reply(0);
      return write(() => {
        if (store.members.length === 0) writer.remove(key);
        else writer.replace(key, storedSet(store.members));
        return result.answer;
      });
    },
  };
}

export const geoRules: Readonly<Record<string, CommandRule>> = {
  geoadd,
  geopos: {
    arity: -2,
    type: ['zset'],
    check: (args, reader) => reply(positions(setOf(reader, args[0]), args.slice(1))),
  },
  geohash: {
    arity: -2,
    type: ['zset'],
    check: (args, reader) => reply(geohashes(setOf(reader, args[0]), args.slice(1))),
  },
  geodist: {
    arity: -4,
    parse: (args) => {
      geodistUnit(args);
    },
    type: ['zset'],
    keys: firstKey,
    check: (args, reader) => reply(geodist(setOf(reader, args[0]), args)),
  },
  georadius: searchRule('georadius', -6),
  georadius_ro: searchRule('georadius_ro', -6),
  georadiusbymember: searchRule('georadiusbymember', -5),
  georadiusbymember_ro: searchRule('georadiusbymember_ro', -5),
  geosearch: searchRule('geosearch', -7),
  geosearchstore: searchRule('geosearchstore', -8),
};
