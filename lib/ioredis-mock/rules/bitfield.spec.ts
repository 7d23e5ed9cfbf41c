import { bitfieldAnswer } from './strings';

describe('bitfieldAnswer', () => {
  it('reads fields past bit 2^31 of a string longer than 256 MB (not with 32-bit shifts)', () => {
    const bytes = Buffer.alloc(2 ** 28 + 1);
    bytes[2 ** 28] = 0xab;
    const { replies } = bitfieldAnswer(
      bytes,
      [
        'big',
        'GET',
        'u8',
        String(2 ** 31),
        'GET',
        'u4',
        String(2 ** 31 + 4),
        'GET',
        'u8',
        '#268435456',
      ],
      true,
    );
    expect(replies).toEqual([0xab, 0xb, 0xab]);
  });

  it('grows the string to the farthest write before the subcommands run, and keeps the bytes before', () => {
    const { replies, bytes } = bitfieldAnswer(
      Buffer.from('AB'),
      ['k', 'OVERFLOW', 'FAIL', 'SET', 'u8', '24', '300', 'INCRBY', 'u8', '#0', '1'],
      false,
    );
    expect(replies).toEqual([null, 0x42]);
    expect(bytes).toEqual(Buffer.from([0x42, 0x42, 0, 0]));
  });
});
