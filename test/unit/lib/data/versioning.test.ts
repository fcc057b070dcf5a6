import { describe, expect, it } from 'vitest';
import { etagOf, matchesIfMatch, parseIfMatch } from '../../../../lib/data/versioning.js';

describe('If-Match', () => {
  it('treats an absent header and * as matching any version', () => {
    expect(matchesIfMatch(parseIfMatch(undefined), etagOf(7))).toBe(true);
    expect(matchesIfMatch(parseIfMatch(' * '), etagOf(7))).toBe(true);
  });

  it('matches a strong, weak or listed ETag of the current version only', () => {
    expect(matchesIfMatch(parseIfMatch('"7"'), etagOf(7))).toBe(true);
    expect(matchesIfMatch(parseIfMatch('W/"7"'), etagOf(7))).toBe(true);
    expect(matchesIfMatch(parseIfMatch('"5", "7"'), etagOf(7))).toBe(true);
    expect(matchesIfMatch(parseIfMatch('"6"'), etagOf(7))).toBe(false);
  });

  it('never matches a header that names no version of ours', () => {
    const garbage = parseIfMatch('"abc"');
    expect(garbage).toEqual({ kind: 'versions', versions: [-1] });
    expect(matchesIfMatch(garbage, etagOf(1))).toBe(false);
  });
});
