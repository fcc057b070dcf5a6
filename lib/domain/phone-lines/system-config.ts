import { and, type Condition, exists, ne, notExists, or } from '../../data/expressions.js';
import { systemConfigKey } from '../../data/keys.js';
import {
  readStoredSystemConfig,
  type StoredSystemConfig,
  systemConfigs,
} from '../../data/system-config.js';
import { writeItem } from '../../data/table.js';
import {
  type ETag,
  etagOf,
  type IfMatch,
  ifMatchCondition,
  matchesIfMatch,
  nextVersion,
} from '../../data/versioning.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import { preconditionFailed } from '../../errors.js';
import type { SystemConfig } from '../../schemas/phone-lines.js';
import type { ServiceContext } from '../../service-context.js';

/** The configuration before anyone changed it (§7: aliases may register), version 1. */
const defaultSystemConfig: StoredSystemConfig = { aliasAuthentication: 'enabled', version: 1 };

/**
 * How long the switch-facing calls may answer from a cached system configuration.
 * §7 allows 10 seconds; a change is seen within this bound plus one read.
 */
export const systemConfigCacheMillis = 5_000;

/** A fresh read of the configuration as stored, or the default, with its version. */
export async function readSystemConfig(ctx: ServiceContext): Promise<StoredSystemConfig> {
  return (await readStoredSystemConfig(ctx.db)) ?? defaultSystemConfig;
}

export interface VersionedSystemConfig {
  readonly config: SystemConfig;
  readonly etag: ETag;
}

const present = (stored: StoredSystemConfig): VersionedSystemConfig => ({
  config: { aliasAuthentication: stored.aliasAuthentication },
  etag: etagOf(stored.version),
});

export async function getSystemConfig(ctx: ServiceContext): Promise<VersionedSystemConfig> {
  return present(await readSystemConfig(ctx));
}

/**
 * The stored value differs from `value`, an absent item holding the default: the
 * default changes only an item that exists (`<>` alone holds for a missing
 * attribute), the other value changes an absent one too.
 */
function storedDiffersFrom(value: SystemConfig['aliasAuthentication']): Condition {
  const path = 'aliasAuthentication';
  return value === defaultSystemConfig.aliasAuthentication
    ? and(exists(path), ne(path, value))
    : or(notExists(path), ne(path, value));
}

/**
 * One conditional UpdateItem, which creates the item the first time: If-Match is its
 * condition (the default configuration counts as version 1), and it bumps the version.
 * It writes only when the value changes, so a PATCH to the value in force keeps the
 * ETag (README, "A write that changes nothing"); the item as it was, returned by the
 * failed condition, tells a stale If-Match (412) from that.
 */
export async function patchSystemConfig(
  ctx: ServiceContext,
  change: SystemConfig,
  ifMatch: IfMatch,
): Promise<VersionedSystemConfig> {
  // A transaction holding the item (none does today) would make the write conflict: run it again.
  const outcome = await retryOnWriteConflict(() =>
    writeItem(
      ctx.db,
      systemConfigs.update(
        systemConfigKey,
        {
          set: {
            aliasAuthentication: change.aliasAuthentication,
            updatedAt: ctx.now().toISOString(),
            ...nextVersion,
          },
        },
        {
          condition: and(ifMatchCondition(ifMatch), storedDiffersFrom(change.aliasAuthentication)),
        },
      ),
      { returnNew: true },
    ),
  );
  if (outcome.written) return present(systemConfigs.parse(outcome.item ?? {}));
  const stored = outcome.current ? systemConfigs.parse(outcome.current) : defaultSystemConfig;
  if (!matchesIfMatch(ifMatch, etagOf(stored.version))) throw preconditionFailed();
  return present(stored);
}

/**
 * The system configuration as the hot path sees it: read at most once per
 * `maxAgeMillis` per Lambda instance. A read in flight is shared, so a burst of
 * requests after expiry costs one read, not one each.
 */
export function cachedSystemConfig(maxAgeMillis = systemConfigCacheMillis) {
  let cached: { value: SystemConfig; readAt: number } | undefined;
  let pending: Promise<SystemConfig> | undefined;
  return (ctx: ServiceContext): Promise<SystemConfig> | SystemConfig => {
    const now = ctx.now().getTime();
    if (cached && now - cached.readAt < maxAgeMillis) return cached.value;
    pending ??= readSystemConfig(ctx)
      .then((value) => {
        cached = { value, readAt: now };
        return value;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
