/** How a message shows a value it was given: strings quoted, objects with their type, e.g. `array [1,2]`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null)
    return String(value);
  return `${Object.prototype.toString.call(value).slice(8, -1).toLowerCase()} ${JSON.stringify(value)}`;
}
