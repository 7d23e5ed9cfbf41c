import { counted } from './counted';

describe('counted', () => {
  it('puts the noun in the plural unless the count is one', () => {
    expect([
      counted(0, 'key'),
      counted(1, 'key'),
      counted(2, 'key'),
      counted(1000, 'byte'),
    ]).toEqual(['0 keys', '1 key', '2 keys', '1000 bytes']);
    expect([counted(1, 'entry', 'entries'), counted(3, 'entry', 'entries')]).toEqual([
      '1 entry',
      '3 entries',
    ]);
  });
});
