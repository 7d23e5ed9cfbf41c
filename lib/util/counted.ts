/** `n` and the noun, in the plural unless `n` is 1: `1 key`, `0 keys`, `1000 keys`. */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
