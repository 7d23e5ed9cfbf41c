import { Keyspace, type KeyReader } from '../keyspace/keyspace';
import { CommandReader } from './command-rule';

/** What a command's rule reads through: one lookup per key, and one use of each key read per command. */
describe('CommandReader', () => {
  let keyspace: Keyspace;
  let lookups: string[];
  let touched: string[];
  let reader: CommandReader;

  beforeEach(() => {
    keyspace = new Keyspace();
    keyspace.set('a', 'x');
    keyspace.set('b', 'y');
    lookups = [];
    touched = [];
    // The keyspace's own reader, with its lookups and uses written down.
    const own: KeyReader = keyspace.reader;
    reader = new CommandReader({
      valueOf: (key) => (lookups.push(key), own.valueOf(key)),
      expiryOf: (key) => own.expiryOf(key),
      touch: (key) => (touched.push(key), own.touch(key)),
    });
  });

  it('looks a key up once while a command reads it again', () => {
    reader.begin();
    expect(reader.valueOf('a')).toBe('x');
    expect(reader.valueOf('a')).toBe('x');
    expect(reader.valueOf('missing')).toBeUndefined();
    expect(reader.valueOf('missing')).toBeUndefined();
    expect(lookups).toEqual(['a', 'missing']);
  });

  it('counts the keys read as used when the rule answered, and not when the command ran in ioredis-mock', () => {
    reader.begin();
    reader.valueOf('a');
    reader.valueOf('b');
    reader.forget(false);
    expect(touched).toEqual(['a', 'b']);
    reader.begin();
    reader.valueOf('a');
    reader.forget(true);
    expect(touched).toEqual(['a', 'b']);
  });

  it('reads afresh after a command ended, and outside commands (what it read may have changed)', () => {
    reader.begin();
    expect(reader.valueOf('a')).toBe('x');
    reader.forget(true);
    keyspace.set('a', 'z');
    expect(reader.valueOf('a')).toBe('z');
    keyspace.set('a', 'w');
    expect(reader.valueOf('a')).toBe('w');
    expect(lookups).toEqual(['a', 'a', 'a']);
    reader.forget(false);
    expect(touched).toEqual([]); // nothing read outside a command counts as a use
  });
});
