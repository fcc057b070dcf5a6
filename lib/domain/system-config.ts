import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { entityTypes, systemConfigKey } from '../data/keys.js';
import { type SystemConfig, systemConfigSchema } from '../schemas/phone-lines.js';
import type { ServiceContext } from '../service-context.js';

export const defaultSystemConfig: SystemConfig = { aliasAuthentication: 'enabled' };

/**
 * How long the switch-facing calls may answer from a cached system configuration.
 * SPEC §7 allows 10 seconds; a change is seen within this bound plus one read.
 */
export const systemConfigCacheMillis = 5_000;

export async function readSystemConfig(ctx: ServiceContext): Promise<SystemConfig> {
  const { Item } = await ctx.db.client.send(
    new GetCommand({ TableName: ctx.db.tableName, Key: systemConfigKey, ConsistentRead: true }),
  );
  return Item ? systemConfigSchema.parse(Item) : defaultSystemConfig;
}

export async function writeSystemConfig(
  ctx: ServiceContext,
  config: SystemConfig,
): Promise<SystemConfig> {
  await ctx.db.client.send(
    new PutCommand({
      TableName: ctx.db.tableName,
      Item: {
        ...systemConfigKey,
        entityType: entityTypes.systemConfig,
        ...config,
        updatedAt: ctx.now().toISOString(),
      },
    }),
  );
  return config;
}

/**
 * The system configuration as the hot path sees it: read at most once per
 * `systemConfigCacheMillis` per Lambda instance. A read in flight is shared, so a
 * burst of requests after expiry costs one read, not one each.
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
