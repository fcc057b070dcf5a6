import * as z from 'zod';
import { idSchema, pageOf, paginationQuery, textSchema, timestampSchema } from './common.js';
import { moneySchema, pricingSchema } from './dids.js';
import { e164Schema } from './phone-lines.js';

export const didBatchSources = ['inventory', 'provider'] as const;
export const didProviders = ['didww'] as const;

/**
 * Unique case-insensitively (409 name_taken). 100 characters keep the case-folded name
 * within the 400 bytes a name key holds, so two names compare in full (only names of
 * characters that NFKC expands several-fold could meet that bound and compare on it).
 */
const batchName = textSchema(1, 100);

export const didBatchSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    source: z.enum(didBatchSources),
    provider: z.enum(didProviders).nullable(),
    pricing: pricingSchema,
    createdAt: timestampSchema,
  })
  .meta({ id: 'DidBatch' });
export type DidBatch = z.infer<typeof didBatchSchema>;

export const createDidBatchBody = z
  .strictObject({
    name: batchName,
    source: z.enum(didBatchSources).meta({
      description:
        'inventory: numbers imported with POST /did-batches/{id}/numbers; provider: numbers searched and ordered at the provider',
    }),
    provider: z
      .enum(didProviders)
      .optional()
      .meta({ description: 'Required exactly when source is provider' }),
    pricing: pricingSchema,
  })
  .superRefine((body, context) => {
    if ((body.source === 'provider') !== (body.provider !== undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['provider'],
        message:
          body.source === 'provider'
            ? 'is required when source is provider'
            : 'is only for source provider',
      });
    }
  })
  .meta({ id: 'CreateDidBatch' });
export type CreateDidBatchInput = z.infer<typeof createDidBatchBody>;

export const didBatchParams = z.strictObject({ id: idSchema });
export const listDidBatchesQuery = z.strictObject(paginationQuery);
export const didBatchPage = pageOf(didBatchSchema, 'DidBatchPage');

export const didKinds = ['local', 'toll_free'] as const;

/** Shape only (two upper-case letters), as E.164 numbers get no numbering-plan check. */
export const countrySchema = z
  .string()
  .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code in upper case, e.g. DE')
  .meta({ description: 'ISO 3166-1 alpha-2 country code, upper case', example: 'DE' });

export const areaSchema = z
  .string()
  .regex(/^[A-Za-z0-9]{1,16}$/, 'must be 1 to 16 letters or digits')
  .meta({ description: 'Area (e.g. the area code), 1 to 16 letters or digits', example: '30' });

export const inventoryEntrySchema = z
  .strictObject({
    number: e164Schema,
    kind: z.enum(didKinds),
    country: countrySchema,
    area: areaSchema.optional(),
    activationCost: moneySchema,
    recurringCost: moneySchema,
  })
  .meta({ id: 'InventoryNumber' });
export type InventoryEntry = z.infer<typeof inventoryEntrySchema>;

export const maxNumbersPerImport = 1000;

export const importNumbersBody = z
  .strictObject({
    numbers: z.array(inventoryEntrySchema).min(1).max(maxNumbersPerImport),
  })
  .superRefine((body, context) => {
    // One call names each number once: two entries of one number would leave which
    // costs land to the order they are written in.
    const firstIndex = new Map<string, number>();
    body.numbers.forEach((entry, index) => {
      const first = firstIndex.get(entry.number);
      if (first === undefined) {
        firstIndex.set(entry.number, index);
        return;
      }
      context.addIssue({
        code: 'custom',
        path: ['numbers', index, 'number'],
        message: `repeats numbers.${first}: a call names each number once`,
      });
    });
  })
  .meta({
    id: 'ImportNumbers',
    description: `1 to ${maxNumbersPerImport} numbers, each named once; any invalid entry rejects the whole call`,
  });

export const importResultSchema = z
  .object({
    added: z.array(z.string()),
    rejected: z.array(z.object({ number: z.string(), reason: z.literal('duplicate') })),
  })
  .meta({
    id: 'ImportResult',
    description:
      'added: the numbers now available, in the order sent; rejected: those already in the inventory (of any batch)',
  });
export type ImportResult = z.infer<typeof importResultSchema>;
export type DidKind = (typeof didKinds)[number];
