import * as z from 'zod';
import { idSchema, pageOf } from './common.js';

export const aliasAuthPolicies = ['system', 'enabled', 'disabled'] as const;
export const offices = ['main', 'branch'] as const;
export const invoicingModes = ['individual', 'consolidated'] as const;

export const additionalInfoSchema = z
  .object({
    didAutoProvisioning: z.object({ enabled: z.boolean(), batchId: z.string().nullable() }),
    officeHierarchy: z.object({
      enabled: z.boolean(),
      office: z.enum(offices).nullable(),
      mainOfficeId: z.string().nullable(),
      invoicing: z
        .enum(invoicingModes)
        .meta({ description: 'A branch shows (and follows) its main office’s invoicing' }),
      branchCount: z
        .number()
        .int()
        .min(0)
        .meta({ description: 'Branches linked to this main office' }),
    }),
    aliasAuthDefault: z.enum(aliasAuthPolicies),
  })
  .meta({ id: 'AdditionalInfo' });
export type AdditionalInfo = z.infer<typeof additionalInfoSchema>;

/**
 * A merge patch of the panel: every part optional, nested objects merged field by
 * field. `branchCount` is derived and cannot be set.
 */
export const patchAdditionalInfoBody = z
  .strictObject({
    didAutoProvisioning: z
      .strictObject({
        enabled: z.boolean().optional(),
        batchId: idSchema.nullable().optional(),
      })
      .optional(),
    officeHierarchy: z
      .strictObject({
        enabled: z.boolean().optional(),
        office: z.enum(offices).nullable().optional(),
        mainOfficeId: idSchema.nullable().optional(),
        invoicing: z.enum(invoicingModes).optional(),
      })
      .optional(),
    aliasAuthDefault: z.enum(aliasAuthPolicies).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'must change at least one setting')
  .meta({ id: 'PatchAdditionalInfo' });
export type AdditionalInfoPatch = z.infer<typeof patchAdditionalInfoBody>;

export const branchSchema = z
  .object({ id: z.string(), name: z.string(), status: z.enum(['active', 'terminated']) })
  .meta({ id: 'Branch' });
export type Branch = z.infer<typeof branchSchema>;

export const branchPage = pageOf(branchSchema, 'BranchPage');
