/**
 * How a message lists what may be many (keys it left out, errors): the first `most` of `items` and, when there are
 * more, one last item that counts the rest (`more(rest)`, by default `… and <rest> more`).
 */
export function firstOf(
  items: readonly string[],
  most: number,
  more: (rest: number) => string = (rest) => `… and ${rest} more`,
): string[] {
  const shown = items.slice(0, most);
  if (items.length > most) shown.push(more(items.length - most));
  return shown;
}
