/**
 * Redis's glob-style matching (`stringmatchlen` of its `util.c`), over bytes as Redis matches: `*`, `?`, `[abc]`,
 * `[^a-z]`, and `\` to take the next character as it is. Case-sensitive.
 */
const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;
const BACKSLASH = 0x5c;
/** Redis's protection against patterns that would recurse without end. */
const MAX_NESTING = 1000;

/** A compiled pattern: `matches(text)` tests the bytes of `text` (UTF-8 for a string). */
export class GlobPattern {
  private readonly pattern: Buffer;
  /** `*` alone: every key, the empty one too (Redis's SCAN and KEYS test no pattern then). */
  private readonly everything: boolean;

  constructor(pattern: string | Buffer) {
    this.pattern = typeof pattern === 'string' ? Buffer.from(pattern, 'utf8') : pattern;
    this.everything = this.pattern.length === 1 && this.pattern[0] === STAR;
  }

  matches(text: string | Uint8Array): boolean {
    if (this.everything) return true;
    const state = { skipLonger: false };
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    return match(this.pattern, 0, bytes, 0, state, 0);
  }
}

function match(
  pattern: Uint8Array,
  p: number,
  text: Uint8Array,
  s: number,
  state: { skipLonger: boolean },
  nesting: number,
): boolean {
  if (nesting > MAX_NESTING) return false;
  const pLength = pattern.length;
  const sLength = text.length;
  while (p < pLength && s < sLength) {
    switch (pattern[p]) {
      case STAR: {
        while (p + 1 < pLength && pattern[p + 1] === STAR) p++;
        if (p + 1 === pLength) return true;
        while (s < sLength) {
          if (match(pattern, p + 1, text, s, state, nesting + 1)) return true;
          if (state.skipLonger) return false;
          s++;
        }
        // No match for the rest of the pattern from anywhere in the rest of the text: an earlier `*` matching more
        // would not find one either.
        state.skipLonger = true;
        return false;
      }
      case QUESTION:
        s++;
        break;
      case OPEN: {
        p++;
        const not = pattern[p] === CARET;
        if (not) p++;
        let matched = false;
        for (;;) {
          if (p >= pLength) {
            p--; // an unclosed class ends the pattern
            break;
          }
          if (pattern[p] === BACKSLASH && pLength - p >= 2) {
            p++;
            if (pattern[p] === text[s]) matched = true;
          } else if (pattern[p] === CLOSE) {
            break;
          } else if (pLength - p >= 3 && pattern[p + 1] === DASH) {
            const low = Math.min(pattern[p], pattern[p + 2]);
            const high = Math.max(pattern[p], pattern[p + 2]);
            p += 2;
            if (text[s] >= low && text[s] <= high) matched = true;
          } else if (pattern[p] === text[s]) {
            matched = true;
          }
          p++;
        }
        if (not) matched = !matched;
        if (!matched) return false;
        s++;
        break;
      }
      case BACKSLASH:
        if (pLength - p >= 2) p++;
        if (pattern[p] !== text[s]) return false;
        s++;
        break;
      default:
        if (pattern[p] !== text[s]) return false;
        s++;
        break;
    }
    p++;
    if (s === sLength) {
      while (p < pLength && pattern[p] === STAR) p++;
      break;
    }
  }
  return p === pLength && s === sLength;
}
