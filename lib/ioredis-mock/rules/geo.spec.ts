import fc from 'fast-check';
import type { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { createEmbeddedClient } from '../adapter';
import { guardCommands } from '../command-guard';
import { Keyspace } from '../../keyspace/keyspace';
import { distanceText, fixedText, humanText, positionOf, pqsort, scoreOf } from './geo';

describe('GEO number formats', () => {
  it("writes %f as glibc does: the exact value, ties to even (JavaScript's toFixed rounds them up)", () => {
    expect(fixedText(0.0078125, 6)).toBe('0.007812');
    expect((0.0078125).toFixed(6)).toBe('0.007813');
    expect(fixedText(0.0234375, 6)).toBe('0.023438');
    expect(fixedText(200, 6)).toBe('200.000000');
    expect(fixedText(-0, 6)).toBe('-0.000000');
    expect(fixedText(-180.0000001, 6)).toBe('-180.000000');
    expect(fixedText(1e21, 2)).toBe('1000000000000000000000.00');
    expect([fixedText(Infinity, 6), fixedText(-Infinity, 6), fixedText(NaN, 6)]).toEqual([
      'inf',
      '-inf',
      '-nan',
    ]);
  });

  it('writes coordinates as addReplyHumanLongDouble does: 17 decimals, trailing zeros dropped, no -0', () => {
    expect(humanText(13.361389338970184)).toBe('13.36138933897018433');
    expect(humanText(180)).toBe('180');
    expect(humanText(0.5)).toBe('0.5');
    expect(humanText(-0)).toBe('0');
    expect(humanText(-1e-20)).toBe('0');
    // GEOPOS of a score 0, and of the south pole's limit at longitude 0, as redis-server 7.0 answers them.
    expect(positionOf(0).map(humanText)).toEqual([
      '-179.99999731779098511',
      '-85.05112751263942528',
    ]);
    expect(humanText(positionOf(scoreOf(0, -85.05112878))[0])).toBe('0.00000268220901489');
  });

  it('writes distances as fixedpoint_d2string does: llrint of 10^4 times the distance (ties to even)', () => {
    expect(distanceText(0)).toBe('0.0000');
    expect(distanceText(0.00005)).toBe('0.0000');
    expect(distanceText(0.00015)).toBe('0.0001'); // 1.4999999999999998 once scaled
    expect(distanceText(0.00025)).toBe('0.0002');
    expect(distanceText(0.00035)).toBe('0.0004');
    expect(distanceText(190.44242984775784)).toBe('190.4424');
    expect(distanceText(20037726.37)).toBe('20037726.3700');
  });
});

describe('GEO scores', () => {
  it("gives Redis's 52-bit geohash, and reads it back as the centre of its cell", () => {
    expect(scoreOf(13.361389, 38.115556)).toBe(3479099956230698);
    expect(positionOf(3479099956230698)).toEqual([13.361389338970184, 38.1155563954963]);
    // The north-east corner: one bit past 52 for each coordinate, read back at the limits.
    expect(scoreOf(180, 85.05112878)).toBe(2 ** 52 + 2 ** 53);
    expect(positionOf(2 ** 52 + 2 ** 53)).toEqual([180, 85.05112878]);
  });

  it('reads back every position within half a cell of where it was put', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -180, max: 180, noNaN: true }),
        fc.double({ min: -85.05112878, max: 85.05112878, noNaN: true }),
        (lon, lat) => {
          // A coordinate that rounds onto the eastern or northern edge (179.99999999999997 does) takes the cell past
          // the last one, as in Redis (the corner above): its read-back is not within the grid.
          const cells = 2 ** 26;
          fc.pre(((lon + 180) / 360) * cells < cells);
          fc.pre(((lat + 85.05112878) / (2 * 85.05112878)) * cells < cells);
          const [x, y] = positionOf(scoreOf(lon, lat));
          expect(Math.abs(x - lon)).toBeLessThanOrEqual(360 / 2 ** 27 + 1e-9);
          expect(Math.abs(y - lat)).toBeLessThanOrEqual(170.10225756 / 2 ** 27 + 1e-9);
        },
      ),
    );
  });
});

describe("GEO's partial sort (Redis's pqsort)", () => {
  it('puts in the positions asked for what a full sort puts there, the others kept', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 300 }),
        fc.nat(),
        (keys, at) => {
          const items = keys.map((key, i) => ({ key, i }));
          const right = at % items.length;
          pqsort(items, (a, b) => (a.key > b.key ? 1 : a.key === b.key ? 0 : -1), 0, right);
          const sorted = [...keys].sort((a, b) => a - b);
          expect(items.slice(0, right + 1).map((item) => item.key)).toEqual(
            sorted.slice(0, right + 1),
          );
          expect(items.map((item) => item.i).sort((a, b) => a - b)).toEqual(keys.map((_, i) => i));
        },
      ),
    );
  });
});

/** A plain ioredis-mock with the command rules, read without a keyspace writer: its added commands store. */
function referenceMock(): Redis {
  const reference = new RedisMock();
  const internals = reference as unknown as {
    data: { has(key: string): boolean; get(key: string): unknown };
    expires: { get(key: string): number | undefined };
  };
  guardCommands(reference, {
    valueOf: (k) => (internals.data.has(k) ? internals.data.get(k) : undefined),
    expiryOf: (k) => (internals.data.has(k) ? internals.expires.get(k) : undefined),
    touch: () => undefined,
  });
  return reference;
}

describe('GEO commands on a client of no keyspace', () => {
  it('answers and stores as the embedded client does (GEOADD as ZADD, stores by their added commands)', async () => {
    const commands: (string | number)[][] = [
      ['geoadd', 'g', 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania'],
      ['geoadd', 'g', 'CH', 'XX', 13, 38, 'Palermo', 1, 1, 'new'],
      ['geoadd', 'g', 'NX', 1, 1, 'new'],
      ['geopos', 'g', 'Palermo', 'Catania', 'new'],
      ['georadius', 'g', 15, 37, 300, 'km', 'STOREDIST', 'd'],
      ['zrange', 'd', 0, -1, 'WITHSCORES'],
      ['geosearchstore', 'e', 'g', 'FROMMEMBER', 'Catania', 'BYBOX', 500, 500, 'km', 'COUNT', 1],
      ['zrange', 'e', 0, -1, 'WITHSCORES'],
      ['geosearchstore', 'e', 'g', 'FROMLONLAT', 0, 0, 'BYRADIUS', 1, 'm'],
      ['exists', 'e'],
      ['geodist', 'g', 'Palermo', 'Catania', 'km'],
      ['geohash', 'g', 'Palermo'],
    ];
    const run = async (client: Redis): Promise<unknown[]> => {
      const out: unknown[] = [];
      for (const [name, ...args] of commands) {
        out.push(
          await client.call(String(name), ...args.map(String)).catch((e: Error) => e.message),
        );
      }
      return out;
    };
    const reference = referenceMock();
    const embedded = createEmbeddedClient(new Keyspace());
    try {
      const expected = await run(embedded);
      expect(await run(reference)).toEqual(expected);
      expect(expected.slice(0, 3)).toEqual([2, 1, 1]);
      expect(expected[5]).toEqual([
        'Catania',
        '56.441257870158204',
        'Palermo',
        '208.60107661859752',
      ]);
    } finally {
      reference.disconnect();
      embedded.disconnect();
    }
  });
});
