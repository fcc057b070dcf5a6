import * as z from 'zod';
import { systemConfigSchema } from '../schemas/phone-lines.js';
import type { Db } from './client.js';
import { defineEntity } from './entity.js';
import { entityTypes, systemConfigKey } from './keys.js';

/**
 * The one system configuration item (`systemConfigKey`): what a `system` alias
 * resolves to. Absent until first changed; `version` is bumped by every write (an
 * item written before versions existed has none and counts as 1).
 */
const storedSystemConfigSchema = z.object({
  aliasAuthentication: systemConfigSchema.shape.aliasAuthentication,
  version: z.number().int().min(1).default(1),
  updatedAt: z.string().optional(),
});
export type StoredSystemConfig = z.infer<typeof storedSystemConfigSchema>;

export const systemConfigs = defineEntity({
  type: entityTypes.systemConfig,
  schema: storedSystemConfigSchema,
  keyOf: () => systemConfigKey,
});

/** Strongly consistent read of the stored configuration; undefined when it was never changed. */
export const readStoredSystemConfig = (db: Db): Promise<StoredSystemConfig | undefined> =>
  systemConfigs.get(db, systemConfigKey);
