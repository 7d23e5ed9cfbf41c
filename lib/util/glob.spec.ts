import { GlobPattern } from './glob';

/** Redis's `stringmatchlen` cases: what each pattern matches and does not. */
const CASES: [pattern: string, matches: string[], misses: string[]][] = [
  ['*', ['', 'anything', 'é'], []],
  ['h?llo', ['hello', 'hallo', 'hxllo'], ['hllo', 'heello', 'héllo']], // `?` is one byte: é is two
  ['h??llo', ['héllo'], ['hello']],
  ['h*llo', ['hllo', 'heeeello'], ['hell', 'hello!']],
  ['h[ae]llo', ['hello', 'hallo'], ['hillo', 'hllo']],
  ['h[^e]llo', ['hallo', 'hbllo'], ['hello', 'hllo']],
  ['h[a-b]llo', ['hallo', 'hbllo'], ['hcllo']],
  ['h[b-a]llo', ['hallo', 'hbllo'], ['hcllo']], // a reversed range is the same range
  ['h[\\]]llo', ['h]llo'], ['hallo']],
  ['\\*', ['*'], ['a', '\\*']],
  ['a\\', ['a\\'], ['a']], // a trailing backslash is taken as it is
  ['key:[', [], ['key:[', 'key:', 'key:a']], // an empty unclosed class matches nothing
  ['[abc', ['a', 'b', 'c'], ['d', 'ab']], // an unclosed class is a class
  ['**:*', [':', 'a:b'], ['ab']],
  ['*a*b*c', ['abc', 'xaxbxc', 'aabbcc'], ['acb', 'abcd']],
  ['', [''], ['a']],
];

describe('GlobPattern (Redis glob-style patterns)', () => {
  it.each(CASES)('%j', (pattern, matches, misses) => {
    const glob = new GlobPattern(pattern);
    for (const text of matches) expect([text, glob.matches(text)]).toEqual([text, true]);
    for (const text of misses) expect([text, glob.matches(text)]).toEqual([text, false]);
  });

  it('takes a pattern given as bytes', () => {
    expect(new GlobPattern(Buffer.from('日*')).matches('日本')).toBe(true);
    expect(new GlobPattern(Buffer.from([0xe6])).matches('日')).toBe(false);
  });

  it('gives up on a pattern of many stars against a long text without exploring every split', () => {
    const glob = new GlobPattern(`${'a*'.repeat(30)}b`);
    expect(glob.matches('a'.repeat(5_000))).toBe(false);
    expect(glob.matches(`${'a'.repeat(5_000)}b`)).toBe(true);
  });
});
