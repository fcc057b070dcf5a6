import * as z from 'zod';

/**
 * Ids are server-generated and opaque (§1): callers cannot know their shape, so
 * any value that could be an id is accepted and a missing one is 404. Only a value no
 * id could ever be (empty, over 255 characters, not URL-safe) is 400.
 */
export const idPattern = /^[A-Za-z0-9._~-]{1,255}$/;
export const idSchema = z
  .string()
  .regex(idPattern, 'must be 1 to 255 URL-safe characters (letters, digits, . _ ~ -)')
  .meta({
    description: 'Server-generated opaque id',
    example: '01JDQ7ZK3M8V4T2W6X9Y0A1B2C',
  });

/** Free text: a lone surrogate is not Unicode and could not be stored or searched. */
export const textSchema = (min: number, max: number) =>
  z
    .string()
    .trim()
    .min(min)
    .max(max)
    .refine((text) => text.isWellFormed(), 'must be well-formed Unicode');

/** A reference to a reseller: an opaque identifier owned by the platform that issues tokens. */
export const resellerIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');

const currencies = new Set(Intl.supportedValuesOf('currency'));
export const currencySchema = z
  .string()
  .refine((code) => currencies.has(code), 'must be an ISO 4217 currency code')
  .meta({ description: 'ISO 4217 currency code', example: 'EUR' });

const isIanaTimeZone = (name: string): boolean => {
  // Offsets such as "+01:00" are accepted by Intl but are not IANA names.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
};
export const timezoneSchema = z
  .string()
  .max(64)
  .refine(isIanaTimeZone, 'must be an IANA time zone name')
  .meta({ description: 'IANA time zone name', example: 'Europe/Berlin' });

export const timestampSchema = z.iso
  .datetime()
  .meta({ description: 'ISO 8601 UTC timestamp', example: '2026-11-28T17:24:43.000Z' });

export const paginationQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(25)
    .meta({ description: 'Page size, 1 to 100' }),
  cursor: z
    .string()
    .min(1)
    .max(2048)
    .optional()
    .meta({ description: 'Opaque cursor from the previous page' }),
};

export const pageOf = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({ items: z.array(item), nextCursor: z.string().nullable() })
    .meta({ id, description: 'One page of a list; pass nextCursor back as cursor for the next' });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().meta({ description: 'Stable snake_case error code' }),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

export const healthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
