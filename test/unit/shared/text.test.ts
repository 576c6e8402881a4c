// printable(): control characters from files become visible escapes, ordinary Unicode stays.
import { describe, expect, it } from 'vitest';
import { printable, closest } from '../../../src/shared/text';

describe('printable', () => {
  it('escapes C0, DEL, C1 and bidi controls and keeps ordinary Unicode', () => {
    expect(printable('\x1b]0;pwned\x07\x1b[2J')).toBe('\\u001b]0;pwned\\u0007\\u001b[2J');
    expect(printable('a\rb\x7f\x9b\u202ec')).toBe('a\\u000db\\u007f\\u009b\\u202ec');
    expect(printable('Café ü 表情 😀 tab\there\nnext')).toBe('Café ü 表情 😀 tab\there\nnext');
    expect(printable('a\tb\nc', { keepLines: false })).toBe('a\\tb\\nc');
  });

  it('leaves a JSON line parsing to the same value', () => {
    const value = { label: 'x\u009by\u202e', n: 1 };
    expect(JSON.parse(printable(JSON.stringify(value)))).toEqual(value);
  });
});

describe('closest', () => {
  it('names the candidate one or two edits away, or in another case, and nothing farther', () => {
    expect(closest('trian', ['train', 'infer', 'flags'])).toBe('train');
    expect(closest('epoch', ['epochs', 'nets'])).toBe('epochs');
    expect(closest('p', ['P', 'q'])).toBe('P');
    expect(closest('train', ['train'])).toBeNull();
    expect(closest('xyz', ['train', 'flags'])).toBeNull();
    // two edits on a three-letter word is a different word
    expect(closest('run', ['gui'])).toBeNull();
  });
});
