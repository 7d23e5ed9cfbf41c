/** The most of a value a message shows: a 100 kB value is not echoed whole into a log line. */
const SHOWN_CHARS = 120;

function cut(text: string): string {
  return text.length <= SHOWN_CHARS
    ? text
    : `${text.slice(0, SHOWN_CHARS)}… (${text.length} characters in all)`;
}

/** How a message shows a value it was given: strings quoted, objects with their type, e.g. `array [1,2]`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return cut(JSON.stringify(value));
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null)
    return String(value);
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined; // a cycle, or a BigInt
  }
  const type = Object.prototype.toString.call(value).slice(8, -1).toLowerCase();
  return json === undefined ? type : `${type} ${cut(json)}`;
}
