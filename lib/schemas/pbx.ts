import * as z from 'zod';
import { idSchema, pageOf, paginationQuery, textSchema } from './common.js';
import { e164Schema } from './phone-lines.js';

/** Extension and hunt-group numbers: 1 to 8 digits, one namespace per group of offices. */
export const pbxNumberSchema = z
  .string()
  .regex(/^\d{1,8}$/, 'must be 1 to 8 digits')
  .meta({ description: 'Extension or hunt-group number', example: '101' });

export const huntStrategies = ['simultaneous', 'sequential', 'round_robin', 'least_used'] as const;

const inheritedFrom = z.string().nullable().meta({
  description: 'The main office the item is inherited from, or null for the customer’s own',
});

export const extensionSchema = z
  .object({
    number: z.string(),
    name: z.string(),
    accountNumber: z.string().nullable(),
    inheritedFrom,
  })
  .meta({ id: 'Extension' });
export type Extension = z.infer<typeof extensionSchema>;

export const huntGroupSchema = z
  .object({
    number: z.string(),
    name: z.string(),
    strategy: z.enum(huntStrategies),
    members: z.array(z.string()),
    inheritedFrom,
  })
  .meta({ id: 'HuntGroup' });
export type HuntGroup = z.infer<typeof huntGroupSchema>;

export const createExtensionBody = z
  .strictObject({
    number: pbxNumberSchema,
    name: textSchema(1, 100),
    accountNumber: e164Schema.optional(),
  })
  .meta({ id: 'CreateExtension' });

export const createHuntGroupBody = z
  .strictObject({
    number: pbxNumberSchema,
    name: textSchema(1, 100),
    strategy: z.enum(huntStrategies),
    members: z
      .array(pbxNumberSchema)
      .min(1)
      .max(50)
      .refine((members) => new Set(members).size === members.length, 'must not repeat a number'),
  })
  .meta({ id: 'CreateHuntGroup' });

export const pbxItemParams = z.strictObject({ id: idSchema, number: pbxNumberSchema });
export const pbxListQuery = z.strictObject(paginationQuery);

export const extensionPage = pageOf(extensionSchema, 'ExtensionPage');
export const huntGroupPage = pageOf(huntGroupSchema, 'HuntGroupPage');
