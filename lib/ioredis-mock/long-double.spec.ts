import { floatSum } from './long-double';
import { NOT_A_FLOAT } from './redis-replies';

/** Replies of redis-server 7.0 (x86-64) to `SET k <stored>` then `INCRBYFLOAT k <increment>`. */
const REDIS: [string, string, string][] = [
  ['0.1', '0.2', '0.3'],
  ['0.1', '0.1', '0.2'],
  ['10', '0.5', '10.5'],
  ['3.0e3', '0', '3000'],
  ['5.0e3', '1', '5001'],
  ['1e20', '1', '100000000000000000000'],
  ['1.5', '-1.5', '0'],
  ['0', '-0.0', '0'],
  ['0.1', '-0.3', '-0.2'],
  ['100', '-99.99', '0.01'],
  ['-1.1', '-2.2', '-3.3'],
  ['123456789012345678', '0.1', '123456789012345678.1015625'],
  ['0.30000000000000004', '0', '0.30000000000000004'],
  ['3.14159265358979323846', '0', '3.14159265358979324'],
  ['1e-17', '0', '0.00000000000000001'],
  ['5e-18', '0', '0'],
  ['1.5e-17', '0', '0.00000000000000002'],
  ['2.5e-17', '0', '0.00000000000000002'],
  ['7.5', '0.000000000000000001', '7.5'],
  ['99999999999999999.5', '0', '99999999999999999.5'],
  ['9223372036854775807', '1', '9223372036854775808'],
  ['18446744073709551617', '0', '18446744073709551616'],
  ['0x10', '1', '17'],
  ['0x1p3', '0.5', '8.5'],
  ['1.', '1', '2'],
  ['.5', '1', '1.5'],
  ['+3', '1', '4'],
  [
    '1e308',
    '1e308',
    '199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494' +
      '450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121' +
      '087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096',
  ],
];

describe('INCRBYFLOAT arithmetic (long double, written with %.17Lf)', () => {
  it.each(REDIS)('%s + %s answers %s, as Redis does', (stored, increment, expected) => {
    expect(floatSum(stored, increment, NOT_A_FLOAT)).toBe(expected);
  });

  it('adds to a missing value from 0, and reads a Buffer as its text', () => {
    expect(floatSum(undefined, '2.5', NOT_A_FLOAT)).toBe('2.5');
    expect(floatSum(Buffer.from('1.25'), '1', NOT_A_FLOAT)).toBe('2.25');
  });

  it.each([['1e-5000'], ['1e5000'], [' 2'], ['2 '], ['nan'], ['1e'], [''], ['0x']])(
    'refuses the stored value %j as Redis does',
    (stored) => {
      expect(() => floatSum(stored, '1', 'ERR hash value is not a float')).toThrow(
        'ERR hash value is not a float',
      );
    },
  );

  it('refuses a sum that is not finite', () => {
    expect(() => floatSum('inf', '1', NOT_A_FLOAT)).toThrow(
      'ERR increment would produce NaN or Infinity',
    );
    expect(() => floatSum('1', '-inf', NOT_A_FLOAT)).toThrow(
      'ERR increment would produce NaN or Infinity',
    );
    expect(() => floatSum('1e4932', '1e4932', NOT_A_FLOAT)).toThrow(
      'ERR increment would produce NaN or Infinity',
    );
  });
});
