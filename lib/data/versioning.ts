import { type Condition, increment, notExists, oneOf, or } from './expressions.js';

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
 * Items that got their `version` after some of them had been written (phone lines, the
 * system configuration) count an item without one as version 1, and so is the system
 * configuration before its item exists. A condition naming version 1 therefore also
 * accepts an item, or no item, without a version.
 */
export function versionIn(versions: readonly number[]): Condition {
  const matches = oneOf('version', versions);
  return versions.includes(1) ? or(matches, notExists('version')) : matches;
}

/** If-Match as a write condition on the version; undefined when any version may be written over. */
export const ifMatchCondition = (ifMatch: IfMatch): Condition | undefined =>
  ifMatch.kind === 'versions' ? versionIn(ifMatch.versions) : undefined;

/** What every write of a versioned item sets: the next version, counting from 1 when there was none. */
export const nextVersion = { version: increment(1, 1) };
