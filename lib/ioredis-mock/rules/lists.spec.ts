import { createEmbeddedClient } from '../adapter';
import { Keyspace } from '../../keyspace/keyspace';

describe('LPOS with the smallest RANK', () => {
  it('answers every match from the tail whatever COUNT, as Redis 7.0 counts in 64 bits', async () => {
    const client = createEmbeddedClient(new Keyspace());
    try {
      await client.rpush('l', 'a', 'b', 'a', 'a');
      const min = '-9223372036854775808';
      expect(await client.call('lpos', 'l', 'a', 'RANK', min, 'COUNT', '1')).toEqual([3, 2, 0]);
      expect(await client.call('lpos', 'l', 'a', 'RANK', min)).toBe(3);
      expect(await client.call('lpos', 'l', 'a', 'RANK', '-1', 'COUNT', '1')).toEqual([3]);
    } finally {
      client.disconnect();
    }
  });
});
