import { systemConfigKey } from '../../data/keys.js';
import {
  readStoredSystemConfig,
  type StoredSystemConfig,
  systemConfigs,
} from '../../data/system-config.js';
import { type WriteOutcome, writeItem } from '../../data/table.js';
import {
  type ETag,
  etagOf,
  type IfMatch,
  ifMatchCondition,
  nextVersion,
} from '../../data/versioning.js';
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
 * One conditional UpdateItem, which creates the item the first time: If-Match is its
 * condition (the default configuration counts as version 1), and it bumps the version.
 */
export async function patchSystemConfig(
  ctx: ServiceContext,
  change: SystemConfig,
  ifMatch: IfMatch,
): Promise<VersionedSystemConfig> {
  const outcome = await writeItem(
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
      { condition: ifMatchCondition(ifMatch), onConditionFailed: () => preconditionFailed() },
    ),
    { returnNew: true },
  );
  // A failed condition throws its declared error: the outcome is the item as written.
  const { item } = outcome as Extract<WriteOutcome, { written: true }>;
  return present(systemConfigs.parse(item ?? {}));
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
