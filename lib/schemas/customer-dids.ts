import * as z from 'zod';
import { idSchema, pageOf, paginationQuery, timestampSchema } from './common.js';
import { areaSchema, countrySchema, didKinds } from './did-batches.js';
import { e164Schema } from './phone-lines.js';

/**
 * Offers are filtered by kind and country (both required: that is how a number is
 * chosen, and how the provider is searched), and optionally by area.
 */
export const didOffersQuery = z.strictObject({
  kind: z.enum(didKinds),
  country: countrySchema,
  area: areaSchema.optional(),
  ...paginationQuery,
});
export type DidOffersQuery = z.infer<typeof didOffersQuery>;

const priced = {
  activationPrice: z.string().meta({ description: 'Exact decimal string', example: '1.50' }),
  recurringPrice: z
    .string()
    .meta({ description: 'Exact decimal string, per month', example: '2.25' }),
  currency: z.string().meta({ description: 'ISO 4217, the customer’s', example: 'EUR' }),
};

export const didOfferSchema = z
  .object({
    number: z.string(),
    kind: z.enum(didKinds),
    country: z.string(),
    area: z.string().nullable(),
    ...priced,
  })
  .meta({ id: 'DidOffer' });
export type DidOffer = z.infer<typeof didOfferSchema>;
export const didOfferPage = pageOf(didOfferSchema, 'DidOfferPage');

/** 20 numbers are 62 of the 100 writes one DynamoDB transaction takes (3 per number, 2 more). */
export const maxNumbersPerAssignment = 20;

export const assignDidsBody = z
  .strictObject({
    numbers: z
      .array(e164Schema)
      .min(1)
      .max(maxNumbersPerAssignment)
      .refine((numbers) => new Set(numbers).size === numbers.length, 'names a number twice'),
  })
  .meta({
    id: 'AssignDids',
    description: `1 to ${maxNumbersPerAssignment} numbers from the customer's offers, each once; all are assigned or none`,
  });

export const customerDidSchema = z
  .object({
    number: z.string(),
    batchId: z.string(),
    kind: z.enum(didKinds),
    country: z.string(),
    area: z.string().nullable(),
    ...priced,
    assignedAt: timestampSchema,
  })
  .meta({
    id: 'CustomerDid',
    description: 'A DID the customer holds, with the prices it was assigned at',
  });
export type CustomerDidView = z.infer<typeof customerDidSchema>;

export const assignedDidsSchema = z
  .object({ assigned: z.array(customerDidSchema) })
  .meta({ id: 'AssignedDids' });
export type AssignedDids = z.infer<typeof assignedDidsSchema>;

export const customerDidPage = pageOf(customerDidSchema, 'CustomerDidPage');
export const customerDidsQuery = z.strictObject(paginationQuery);
export const customerDidParams = z.strictObject({ id: idSchema, number: e164Schema });
