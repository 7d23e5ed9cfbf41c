import { SYNTAX_ERROR } from '../redis-replies';
import { sortedElements, sortQuery, sortScore } from './sort';

/** Each text was sorted alone by redis-server 7.0.15 (`RPUSH l <text>`, `SORT l`): accepted, or refused. */
describe('sortScore', () => {
  it.each([
    ['', 0],
    [' 2', 2],
    ['\t5', 5],
    ['\n7', 7],
    ['+1', 1],
    ['.5', 0.5],
    ['5.', 5],
    ['1e+2', 100],
    ['-0', -0],
    ['0e-400', 0],
    ['0x10', 16],
    ['-0x10', -16],
    ['0x1.8p1', 3],
    ['0x.8', 0.5],
    ['0X1P-2', 0.25],
    ['0x1p-1074', 5e-324],
    ['inf', Infinity],
    ['-INFINITY', -Infinity],
    ['2.2250738585072014e-308', 2.2250738585072014e-308],
    ['1.7976931348623157e308', 1.7976931348623157e308],
    ['5\0abc', 5],
  ])('reads %p as %p', (text, score) => {
    expect(sortScore(text)).toBe(score);
  });

  it.each([
    'abc',
    ' ',
    '2 ',
    '1e',
    '0x',
    '.',
    'nan',
    '-nan(1)',
    '1_000',
    '１',
    'infinityx',
    '1e400',
    '1.7976931348623159e308',
    '0x1p1024',
    '1e-310',
    '-1e-310',
    '1e-400',
    '2.2250738585072011e-308',
    '0x3p-1075',
  ])('refuses %p (nothing read, something left, NaN, or out of range)', (text) => {
    expect(sortScore(text)).toBeUndefined();
  });
});

describe('sortQuery', () => {
  it('reads the options in any order and case', () => {
    const query = sortQuery(
      [
        'k',
        'limit',
        '1',
        '2',
        'Alpha',
        'BY',
        'w_*',
        'get',
        '#',
        'GET',
        'n_*',
        'desc',
        'store',
        'd',
      ],
      false,
    );
    expect(query).toMatchObject({ offset: 1n, count: 2n, alpha: true, desc: true, store: 'd' });
    expect(query.gets.map(String)).toEqual(['#', 'n_*']);
    expect([String(query.by), query.dontSort]).toEqual(['w_*', false]);
    expect(sortQuery(['k', 'BY', 'nosort', 'ASC'], false)).toMatchObject({
      dontSort: true,
      desc: false,
    });
  });

  it.each([
    [['k', 'LIMIT', '0'], SYNTAX_ERROR],
    [['k', 'BY'], SYNTAX_ERROR],
    [['k', 'foo'], SYNTAX_ERROR],
    [['k', 'LIMIT', '1.5', '2'], 'ERR value is not an integer or out of range'],
  ])('refuses %p', (args, error) => {
    expect(() => sortQuery(args, false)).toThrow(error);
  });

  it('refuses STORE in SORT_RO only', () => {
    expect(() => sortQuery(['k', 'STORE', 'd'], true)).toThrow(SYNTAX_ERROR);
    expect(sortQuery(['k', 'STORE', 'd'], false).store).toBe('d');
  });
});

describe('sortedElements', () => {
  const data = new Map<string, unknown>([
    ['list', ['3', '1', '2', '1']],
    ['w_1', '30'],
    ['w_2', '10'],
    ['h_3', { f: '20', g: 'three' }],
  ]);
  const lookup = (key: string): unknown => data.get(key);
  const sorted = (...args: string[]): unknown => sortedElements(lookup, sortQuery(args, false));

  it('sorts by number, then by bytes; LIMIT bounds the range as Redis does', () => {
    expect(sorted('list')).toEqual(['1', '1', '2', '3']);
    expect(sorted('list', 'DESC', 'LIMIT', '1', '2')).toEqual(['2', '1']);
    expect(sorted('list', 'LIMIT', '-3', '1')).toEqual(['1']);
    expect(sorted('list', 'LIMIT', '4', '1')).toEqual([]);
    expect(sorted('list', 'LIMIT', '2', '-1')).toEqual(['2', '3']);
  });

  it('reads BY and GET through their patterns: keys, hash fields, `#`; missing ones count as 0 or null', () => {
    expect(sorted('list', 'BY', 'w_*')).toEqual(['3', '2', '1', '1']);
    expect(sorted('list', 'BY', 'h_*->f', 'GET', '#', 'GET', 'h_*->g', 'LIMIT', '2', '2')).toEqual([
      '2',
      null,
      '3',
      'three',
    ]);
    // Without `*`, BY does not sort (and a pattern naming a field needs the `*` before its `->`).
    expect(sorted('list', 'BY', 'nosort', 'DESC')).toEqual(['1', '2', '1', '3']);
    expect(sorted('list', 'GET', 'h_->*')).toEqual([null, null, null, null]);
  });
});
