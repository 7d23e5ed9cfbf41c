/** How messages show a key: JSON-quoted, cut at 80 characters. @internal */
export function showKey(key: string): string {
  return JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key);
}
