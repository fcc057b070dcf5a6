/**
 * Optimistic concurrency: every mutable item carries an integer `version`,
 * its ETag is that version in quotes, and If-Match becomes a write condition.
 */
export type ETag = `"${number}"`;

export const etagOf = (version: number): ETag => `"${version}"`;

export type IfMatch =
  | { readonly kind: 'absent' }
  | { readonly kind: 'any' }
  | { readonly kind: 'versions'; readonly versions: readonly number[] };

/**
 * Parses an If-Match header. Weak validators (W/"3") are compared like strong ones:
 * the version is the whole state. A header naming no version of ours can never match.
 */
export function parseIfMatch(header: string | undefined): IfMatch {
  if (header === undefined) return { kind: 'absent' };
  if (header.trim() === '*') return { kind: 'any' };
  const versions = header
    .split(',')
    .map((tag) => /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(tag)?.[1])
    .filter((digits): digits is string => digits !== undefined)
    .map(Number);
  return { kind: 'versions', versions: versions.length > 0 ? [...new Set(versions)] : [-1] };
}

export function matchesIfMatch(ifMatch: IfMatch, etag: ETag): boolean {
  if (ifMatch.kind !== 'versions') return true;
  return ifMatch.versions.includes(Number(etag.slice(1, -1)));
}

/**
 * If-Match as a write condition on `#version` (the caller maps `#version` to
 * `version`); adds its values. Undefined when any version may be written over.
 */
export function ifMatchCondition(
  ifMatch: IfMatch,
  values: Record<string, unknown>,
): string | undefined {
  if (ifMatch.kind !== 'versions') return undefined;
  const placeholders = ifMatch.versions.map((version, index) => {
    values[`:ifMatch${index}`] = version;
    return `:ifMatch${index}`;
  });
  return `#version IN (${placeholders.join(', ')})`;
}
