import { redactUrl } from './redact-url';

describe('redactUrl', () => {
  it('hides the password of a URL, given as text or parsed', () => {
    expect(redactUrl('redis://app:pa55@h:6379/2')).toBe('redis://app:***@h:6379/2');
    expect(redactUrl(new URL('rediss://:pa55@h:6380'))).toBe('rediss://:***@h:6380');
  });

  it('leaves a URL without a password as it is, and does not change a URL it was given', () => {
    const url = new URL('redis://app:pa55@h:6379');
    redactUrl(url);
    expect(url.password).toBe('pa55');
    expect(redactUrl('redis://h:6379')).toBe('redis://h:6379');
    // As written, not as URL would normalise it: a message quoting a refused URL shows what was given.
    expect(redactUrl('http://h:6379')).toBe('http://h:6379');
    expect(redactUrl('REDIS://user@H')).toBe('REDIS://user@H');
  });

  it('hides the password of an unparsable URL too', () => {
    expect(redactUrl('redis://user:pa ss@[bad')).toBe('redis://***@[bad');
  });
});
