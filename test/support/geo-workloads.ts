import { prng } from './prng';

/** The latitude limit of a geo index (Redis's GEO_LAT_MAX). */
export const GEO_LAT_MAX = 85.05112878;

/** A workload of GEO commands: the commands, and which of them read distances stored by STOREDIST. */
export interface GeoWorkload {
  readonly commands: string[][];
  /**
   * The indexes of the `ZRANGE … WITHSCORES` reads of a STOREDIST destination: their scores are full-precision
   * distances, which may differ from Redis's in their last bits (see docs/FIDELITY.md).
   */
  readonly storedDistances: ReadonlySet<number>;
}

const UNITS: Readonly<Record<string, number>> = { m: 1, km: 1000, ft: 0.3048, mi: 1609.34 };

/** Places the points cluster around: a city, the antimeridian, near the poles, the origin. */
const CENTERS: readonly (readonly [number, number])[] = [
  [13.36, 38.11],
  [179.9, 0],
  [-179.95, 10],
  [0, 84.9],
  [0, -84.9],
  [-73.98, 40.75],
  [0, 0],
];

/** Points on the edges of the index: the antimeridian, the latitude limits, their corners. */
const EDGES: readonly (readonly [string, string])[] = [
  ['180', '0'],
  ['-180', '0'],
  ['0', String(GEO_LAT_MAX)],
  ['0', String(-GEO_LAT_MAX)],
  ['180', String(GEO_LAT_MAX)],
  ['-180', String(-GEO_LAT_MAX)],
  ['13.36', '38.11'],
];

/**
 * A seeded random workload: `points` points (uniform over the globe, clustered around {@link CENTERS}, on the edges,
 * some at the same position), then GEOPOS, GEOHASH and GEODIST of them, and `queries` searches of every form (GEOSEARCH
 * by radius and by box, GEORADIUS[_RO], GEORADIUSBYMEMBER[_RO], their stores) with random radii from 0 to beyond the
 * Earth's size, units, orders, COUNT [ANY] and WITH… options in random order.
 */
export function geoWorkload(seed: number, points = 400, queries = 600): GeoWorkload {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const clamp = (x: number, limit: number): number => Math.max(-limit, Math.min(limit, x));
  const commands: string[][] = [];
  const storedDistances = new Set<number>();
  const members: string[] = [];
  const add = ['geoadd', 'g'];
  for (let i = 0; i < points; i++) {
    const kind = random();
    const member = `m${i}`;
    members.push(member);
    if (kind >= 0.9) {
      add.push(...pick(EDGES), member);
      continue;
    }
    let lon: number;
    let lat: number;
    if (kind < 0.4) {
      lon = -180 + 360 * random();
      lat = -GEO_LAT_MAX + 2 * GEO_LAT_MAX * random();
    } else {
      const [x, y] = pick(CENTERS);
      const spread = pick([0.001, 0.05, 1, 5]);
      lon = clamp(x + (random() - 0.5) * spread, 180);
      lat = clamp(y + (random() - 0.5) * spread, GEO_LAT_MAX);
    }
    // Truncated (never rounded past the limits) to 0, 3, 6 or 9 decimals: some points share a position.
    const scale = 10 ** pick([0, 3, 6, 9]);
    add.push(
      String(Math.trunc(lon * scale) / scale),
      String(Math.trunc(lat * scale) / scale),
      member,
    );
  }
  commands.push(add);
  commands.push(['zrange', 'g', '0', '-1', 'WITHSCORES'], ['type', 'g'], ['zcard', 'g']);
  commands.push(['geopos', 'g', ...members, 'missing'], ['geohash', 'g', ...members, 'missing']);
  for (let i = 0; i < 100; i++) {
    commands.push([
      'geodist',
      'g',
      pick(members),
      pick(members),
      pick(['m', 'km', 'ft', 'mi', 'KM']),
    ]);
  }
  const length = (unit: string): string => {
    const meters = pick([0, Math.exp(random() * Math.log(2e7)), 1e7 * random(), 5e7]);
    return String(Number((meters / UNITS[unit]).toPrecision(pick([3, 8]))));
  };
  for (let i = 0; i < queries; i++) {
    const unit = pick(Object.keys(UNITS));
    const groups: string[][] = [];
    if (random() < 0.5) groups.push(['WITHDIST']);
    if (random() < 0.3) groups.push(['WITHHASH']);
    if (random() < 0.4) groups.push(['WITHCOORD']);
    const sort = random();
    if (sort < 0.35) groups.push(['ASC']);
    else if (sort < 0.7) groups.push(['DESC']);
    if (random() < 0.5) {
      groups.push(['COUNT', String(1 + Math.floor(random() * pick([3, 20, 100])))]);
      if (random() < 0.3) groups.push(['ANY']);
    }
    groups.sort(() => random() - 0.5);
    const options = groups.flat();
    const [x, y] = pick(CENTERS);
    const lon = String(Number(clamp(x + (random() - 0.5) * 2, 180).toFixed(4)));
    const lat = String(Number(clamp(y + (random() - 0.5) * 2, GEO_LAT_MAX - 0.0001).toFixed(4)));
    const by =
      random() < 0.5
        ? ['BYRADIUS', length(unit), unit]
        : ['BYBOX', length(unit), length(unit), unit];
    const kind = random();
    if (kind < 0.4) {
      const from = random() < 0.4 ? ['FROMMEMBER', pick(members)] : ['FROMLONLAT', lon, lat];
      commands.push([
        'geosearch',
        'g',
        ...(random() < 0.5 ? [...from, ...by] : [...by, ...from]),
        ...options,
      ]);
    } else if (kind < 0.6) {
      commands.push([
        pick(['georadius', 'georadius_ro']),
        'g',
        lon,
        lat,
        length(unit),
        unit,
        ...options,
      ]);
    } else if (kind < 0.8) {
      commands.push([
        pick(['georadiusbymember', 'georadiusbymember_ro']),
        'g',
        pick(members),
        length(unit),
        unit,
        ...options,
      ]);
    } else {
      const plain = groups.filter((group) => !group[0].startsWith('WITH')).flat();
      let distances: boolean;
      if (random() < 0.5) {
        distances = random() < 0.5;
        commands.push([
          'geosearchstore',
          'dst',
          'g',
          'FROMLONLAT',
          lon,
          lat,
          ...by,
          ...plain,
          ...(distances ? ['STOREDIST'] : []),
        ]);
      } else {
        const store = pick(['STORE', 'STOREDIST']);
        distances = store === 'STOREDIST';
        commands.push(['georadius', 'g', lon, lat, length(unit), unit, ...plain, store, 'dst']);
      }
      if (distances) storedDistances.add(commands.length);
      commands.push(['zrange', 'dst', '0', '-1', 'WITHSCORES']);
    }
  }
  return { commands, storedDistances };
}
