/** `url` parsed, or `undefined` when it is not a URL. */
export function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/**
 * How messages show a URL (a Redis server's, which may carry a password): the same URL with its password replaced
 * by `***` (a URL without one as it is). Text that does not parse as a URL has anything between `//` and `@` hidden.
 */
export function redactUrl(url: string | URL): string {
  const text = typeof url === 'string' ? url : url.href;
  const parsed = parseUrl(text);
  if (parsed === undefined) return text.replace(/\/\/[^@/]*@/, '//***@');
  if (parsed.password === '') return text; // as given: a message quoting a refused URL shows what was written
  parsed.password = '***';
  return parsed.href;
}
