import {
  checkRedisUrl,
  isDbIndex,
  isPort,
  MAX_DB,
  selectAdvice,
  selectRefusal,
  type RedisUrlCheck,
} from './redis-url';

/** The parts of a URL that passed, without the parsed URL. */
function parts(check: RedisUrlCheck): object {
  if ('problem' in check) throw new Error(`refused: ${check.problem}`);
  const { host, port, db, tls } = check.url;
  return { host, port, db, tls };
}

describe('checkRedisUrl', () => {
  it.each<[string, object]>([
    ['redis://127.0.0.1', { host: '127.0.0.1', port: 6379, db: 0, tls: false }],
    ['redis://127.0.0.1:6380/', { host: '127.0.0.1', port: 6380, db: 0, tls: false }],
    ['redis://cache.internal:6379/15', { host: 'cache.internal', port: 6379, db: 15, tls: false }],
    ['rediss://app:s%40cret@h:1/3', { host: 'h', port: 1, db: 3, tls: true }],
    ['redis://:pw@h:65535/0', { host: 'h', port: 65535, db: 0, tls: false }],
    ['REDIS://[::1]:7000/2', { host: '::1', port: 7000, db: 2, tls: false }],
    [`redis://h/${MAX_DB}`, { host: 'h', port: 6379, db: MAX_DB, tls: false }],
  ])('takes %s', (text, expected) => {
    expect(parts(checkRedisUrl(text))).toEqual(expected);
  });

  it.each<[string, string]>([
    ['localhost:6379', 'it does not start with redis:// or rediss://'],
    ['not a url', 'it does not start with redis:// or rediss://'],
    ['http://h:6379', 'its scheme is "http", not redis or rediss'],
    ['redis:///', 'it names no host'],
    ['redis://:6379', 'it names no host'],
    ['redis://user:pw@:6379/1', 'it names no host'],
    ['redis://h:99999', 'its port 99999 is not from 1 to 65535'],
    ['redis://h:0', 'its port 0 is not from 1 to 65535'],
    ['redis://h:-1', 'its port "-1" is not a number from 1 to 65535'],
    ['redis://h:abc/1', 'its port "abc" is not a number from 1 to 65535'],
    ['redis://h:6379/abc', `its database "abc" is not a whole number from 0 to ${MAX_DB}`],
    ['redis://h:6379/-1', `its database "-1" is not a whole number from 0 to ${MAX_DB}`],
    ['redis://h:6379/1.5', `its database "1.5" is not a whole number from 0 to ${MAX_DB}`],
    ['redis://h:6379/1/2', `its database "1/2" is not a whole number from 0 to ${MAX_DB}`],
    [
      `redis://h/${MAX_DB + 1}`,
      `its database ${MAX_DB + 1} is not a whole number from 0 to ${MAX_DB}`,
    ],
    ['redis://h:6379?db=3', 'it has a query string ("?db=3"), which is not part of the form'],
    ['redis://h:6379/1#x', 'it has a fragment ("#x"), which is not part of the form'],
    ['redis://h h:6379', 'it is not a valid URL'],
  ])('refuses %s: %s', (text, problem) => {
    expect(checkRedisUrl(text)).toEqual({ problem });
  });
});

describe('isDbIndex and isPort', () => {
  it('take whole numbers in range only', () => {
    expect([0, 15, MAX_DB].every(isDbIndex)).toBe(true);
    expect([-1, 1.5, MAX_DB + 1, NaN, '3', undefined].some(isDbIndex)).toBe(false);
    expect([1, 6379, 65535].every(isPort)).toBe(true);
    expect([0, 65536, 1.5, '6379', -1].some(isPort)).toBe(false);
  });
});

describe('selectRefusal and selectAdvice', () => {
  it('recognise the failed SELECT ioredis reports as an error event (its reply error, with the command), and nothing else', () => {
    const refused = Object.assign(new Error('ERR DB index is out of range'), {
      command: { name: 'select', args: ['99'] },
    });
    expect(selectRefusal(refused)).toBe('ERR DB index is out of range');
    const other = Object.assign(new Error('ERR nope'), { command: { name: 'get', args: [] } });
    expect(selectRefusal(other)).toBeUndefined();
    expect(selectRefusal(new Error('connect ECONNREFUSED'))).toBeUndefined();
    expect(selectRefusal(undefined)).toBeUndefined();
  });

  it('tell a cluster node from a server with fewer databases', () => {
    expect(selectAdvice('ERR SELECT is not allowed in cluster mode')).toContain('only database 0');
    expect(selectAdvice('ERR DB index is out of range')).toContain('`databases` setting');
    expect(selectAdvice('ERR something else')).toBe('give a database the server accepts');
  });
});
