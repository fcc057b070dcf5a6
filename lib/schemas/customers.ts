import * as z from 'zod';
import { additionalInfoSchema } from './additional-info.js';
import {
  currencySchema,
  idSchema,
  pageOf,
  paginationQuery,
  resellerIdSchema,
  textSchema,
  timestampSchema,
  timezoneSchema,
} from './common.js';

export const businessModels = [
  'universal',
  'cloud_pbx',
  'sip_trunking',
  'residential_voip',
  'pinless',
  'internet_access',
  'prepaid_cards',
  'mobile',
] as const;
export const businessModelSchema = z.enum(businessModels);

const customerName = textSchema(1, 200);

export const terminatedBySchema = z.union([
  z.object({ reason: z.literal('requested') }),
  z.object({ reason: z.literal('main_office_terminated'), mainOfficeId: z.string() }),
]);

export const customerSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    resellerId: z.string().nullable(),
    businessModel: businessModelSchema,
    currency: z.string(),
    billingPeriod: z.literal('monthly'),
    timezone: z.string(),
    status: z.enum(['active', 'terminated']),
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
    terminatedAt: timestampSchema.nullable(),
    terminatedBy: terminatedBySchema.nullable(),
    additionalInfo: additionalInfoSchema,
  })
  .meta({ id: 'Customer' });
export type Customer = z.infer<typeof customerSchema>;

export const createCustomerBody = z
  .strictObject({
    name: customerName,
    businessModel: businessModelSchema,
    currency: currencySchema,
    resellerId: resellerIdSchema.nullable().optional(),
    timezone: timezoneSchema.optional(),
  })
  .meta({ id: 'CreateCustomer' });
export type CreateCustomerInput = z.infer<typeof createCustomerBody>;

export const patchCustomerBody = z
  .strictObject({
    name: customerName.optional(),
    timezone: timezoneSchema.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'must name at least one of name, timezone')
  .meta({
    id: 'PatchCustomer',
    description: 'businessModel and currency are fixed at creation; naming them is 400',
  });
export type PatchCustomerInput = z.infer<typeof patchCustomerBody>;

export const customerIdParams = z.strictObject({ id: idSchema });

export const listCustomersQuery = z.strictObject({
  office: z
    .literal('main')
    .optional()
    .meta({ description: 'main: the "Main office" dropdown (active main offices only)' }),
  q: textSchema(1, 200).optional().meta({ description: 'Case-insensitive name prefix' }),
  ...paginationQuery,
});
export type ListCustomersQuery = z.infer<typeof listCustomersQuery>;

export const customerPage = pageOf(customerSchema, 'CustomerPage');
