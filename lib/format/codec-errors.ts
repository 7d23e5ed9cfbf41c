export class CodecError extends Error {
  override name = 'CodecError';
}

/** Encode-side errors carry the path of the offending value, filled in as the stack unwinds. */
const encodePaths = new WeakMap<CodecError, { detail: string; path: string }>();

export function encodeError(detail: string): CodecError {
  const err = new CodecError(detail);
  encodePaths.set(err, { detail, path: '' });
  return err;
}

export function withPath(err: unknown, segment: string): unknown {
  if (err instanceof CodecError) {
    const info = encodePaths.get(err);
    if (info !== undefined) {
      info.path = segment + info.path;
      err.message = `${info.detail} at $${info.path}`;
    }
  }
  return err;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

export function keySegment(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
