import { firstOf } from './first-of';

describe('firstOf', () => {
  it('lists everything when there are at most `most` items', () => {
    expect(firstOf([], 2)).toEqual([]);
    expect(firstOf(['a', 'b'], 2)).toEqual(['a', 'b']);
  });

  it('lists the first `most` and counts the rest in a last item', () => {
    expect(firstOf(['a', 'b', 'c', 'd'], 2)).toEqual(['a', 'b', '… and 2 more']);
    expect(firstOf(['a', 'b', 'c'], 1, (rest) => `and ${rest} more`)).toEqual(['a', 'and 2 more']);
  });
});
