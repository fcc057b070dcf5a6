import * as z from 'zod';
import { AppError } from '../../errors.js';
import { moneySchema } from '../../schemas/dids.js';

/**
 * DIDWW API v3's wire format (JSON:API, `application/vnd.api+json`): the documents the
 * adapter reads, parsed leniently (unknown members pass), and the documents it sends.
 * A body that does not fit is the provider's fault: `provider_error`.
 */

const identifierSchema = z.looseObject({ type: z.string(), id: z.string().min(1) });
const relationshipSchema = z.looseObject({
  data: z.union([identifierSchema, z.array(identifierSchema), z.null()]).optional(),
});

const resourceSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string(),
  attributes: z.record(z.string(), z.unknown()).optional(),
  relationships: z.record(z.string(), relationshipSchema).optional(),
});
export type Resource = z.infer<typeof resourceSchema>;

export const collectionDocumentSchema = z.looseObject({
  data: z.array(resourceSchema),
  included: z.array(resourceSchema).optional(),
});
export const singleDocumentSchema = z.looseObject({
  data: resourceSchema,
  included: z.array(resourceSchema).optional(),
});
export type CollectionDocument = z.infer<typeof collectionDocumentSchema>;
export type SingleDocument = z.infer<typeof singleDocumentSchema>;

/** `{errors: [{title, detail, code, status, source}]}`, what DIDWW answers to a refused request. */
export const errorsDocumentSchema = z.looseObject({
  errors: z
    .array(z.looseObject({ title: z.string().optional(), detail: z.string().optional() }))
    .min(1),
});

/** DIDWW writes numbers as digits: country code, area code, subscriber number. */
const didwwNumberSchema = z.string().regex(/^\d+$/, 'must be the digits of a phone number');

/**
 * DIDWW's prices are decimal strings such as "0.0", "0.19" or "5.00": normalised to our
 * money format (no leading zeros, no trailing fractional zeros), which then must hold:
 * non-negative, at most 6 decimals, below 10^12.
 */
const didwwMoneySchema = z
  .string()
  .transform((text, context) => {
    const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
    if (!match) {
      context.addIssue({ code: 'custom', message: `is not a non-negative decimal: "${text}"` });
      return z.NEVER;
    }
    const whole = (match[1] ?? '').replace(/^0+(?=\d)/, '');
    const fraction = (match[2] ?? '').replace(/0+$/, '');
    return fraction ? `${whole}.${fraction}` : whole;
  })
  .pipe(moneySchema);

export const countryAttributesSchema = z.looseObject({
  iso: z.string().regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code'),
});
export const didGroupTypeAttributesSchema = z.looseObject({ name: z.string() });
export const didGroupAttributesSchema = z.looseObject({ prefix: z.string().nullish() });
export const stockKeepingUnitAttributesSchema = z.looseObject({
  setup_price: didwwMoneySchema,
  monthly_price: didwwMoneySchema,
  channels_included_count: z.number().int().nonnegative().default(0),
});
export const availableDidAttributesSchema = z.looseObject({ number: didwwNumberSchema });
/** Older API versions capitalise the status ("Pending"); 2026-04-16 writes it in lower case. */
export const orderAttributesSchema = z.looseObject({
  status: z
    .string()
    .transform((status) => status.toLowerCase())
    .pipe(z.enum(['pending', 'completed', 'canceled'])),
});
export const didAttributesSchema = z.looseObject({
  number: didwwNumberSchema,
  terminated: z.boolean(),
});

/** Parses a body or one of its parts; what does not fit is `provider_error` naming the part. */
export function parseWire<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  what: string,
): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new AppError(
    'provider_error',
    `DIDWW's answer (${what}) is not in its documented shape: ${z.prettifyError(parsed.error)}`,
  );
}

export const attributesOf = <Schema extends z.ZodType>(
  resource: Resource,
  schema: Schema,
): z.output<Schema> =>
  parseWire(schema, resource.attributes ?? {}, `${resource.type} ${resource.id}`);

/** The ids a relationship of a resource names (empty when it carries no linkage). */
export function relatedIds(resource: Resource, relationship: string): string[] {
  const data = resource.relationships?.[relationship]?.data;
  if (!data) return [];
  return (Array.isArray(data) ? data : [data]).map((identifier) => identifier.id);
}

/** Looks up the resources a document includes by type and id. */
export function includedOf(
  document: CollectionDocument | SingleDocument,
): (type: string, id: string) => Resource | undefined {
  const byKey = new Map(
    (document.included ?? []).map((resource) => [`${resource.type}/${resource.id}`, resource]),
  );
  return (type, id) => byKey.get(`${type}/${id}`);
}

/** POST /did_reservations: holds one available DID for us until it is ordered. */
export const reservationRequest = (availableDidId: string, description: string) => ({
  data: {
    type: 'did_reservations',
    attributes: { description },
    relationships: { available_did: { data: { type: 'available_dids', id: availableDidId } } },
  },
});

/** POST /orders: one item per reserved DID; never back-ordered, so a DID DIDWW cannot sell fails the order. */
export const orderRequest = (
  items: readonly { readonly skuId: string; readonly reservationId: string }[],
  reference: string,
) => ({
  data: {
    type: 'orders',
    attributes: {
      allow_back_ordering: false,
      external_reference_id: reference,
      items: items.map(({ skuId, reservationId }) => ({
        type: 'did_order_items',
        attributes: { sku_id: skuId, did_reservation_id: reservationId },
      })),
    },
  },
});

/** PATCH /dids/{id}: DIDWW removes a terminated DID from our account (§8 release). */
export const terminationRequest = (didId: string) => ({
  data: { type: 'dids', id: didId, attributes: { terminated: true } },
});
