import * as z from 'zod';
import { signedAmountPattern } from '../domain/billing/amounts.js';
import { periodPattern } from '../domain/billing/periods.js';
import { currencySchema, idSchema, pageOf, paginationQuery, textSchema } from './common.js';

export const chargeKinds = ['usage', 'did_activation', 'did_recurring', 'manual'] as const;

/** The largest amount one charge may carry, either way: below 10^9 (a million times a large bill). */
const maxAmountDigits = 9;

const amountSchema = z
  .string()
  .regex(signedAmountPattern, 'must be a decimal string with at most 6 decimals, e.g. "0.0125"')
  .regex(
    new RegExp(`^-?\\d{1,${maxAmountDigits}}(\\.|$)`),
    `must be below 10^${maxAmountDigits} either way`,
  )
  .meta({ description: 'Exact decimal string, at most 6 decimals', example: '0.0125' });

const periodSchema = z
  .string()
  .regex(periodPattern, 'must be a period YYYY-MM')
  .meta({ description: 'Billing period, YYYY-MM in the customer’s timezone', example: '2026-12' });

export const recordChargeBody = z
  .strictObject({
    amount: amountSchema,
    currency: currencySchema,
    kind: z.enum(chargeKinds),
    description: textSchema(1, 500),
    occurredAt: z.iso.datetime({ offset: true }).optional().meta({
      description:
        'ISO 8601 with Z or an offset; default now. At most 1 day ahead, not before 2000.',
      example: '2026-12-03T17:24:43Z',
    }),
  })
  .superRefine((charge, context) => {
    if (charge.amount.startsWith('-') && charge.kind !== 'manual') {
      context.addIssue({
        code: 'custom',
        path: ['amount'],
        message: 'only a manual charge may be negative (a credit)',
      });
    }
  })
  .meta({ id: 'RecordCharge' });
export type RecordChargeInput = z.infer<typeof recordChargeBody>;

/** What a charge is, as answered: the stored charge (lib/data/charge.ts) adds its bookkeeping to these. */
export const chargeFields = {
  id: z.string(),
  customerId: z.string(),
  amount: z.string(),
  currency: z.string(),
  kind: z.enum(chargeKinds),
  description: z.string(),
  occurredAt: z.string(),
};

export const chargeSchema = z.object(chargeFields).meta({ id: 'Charge' });
export type ChargeView = z.infer<typeof chargeSchema>;

const total = z.string().meta({ description: 'Exact decimal string', example: '12.50' });

export const invoiceSchema = z
  .object({
    customerId: z.string(),
    period: z.string(),
    status: z.enum(['open', 'closed']),
    currency: z.string(),
    total,
    totalsByKind: z.object(Object.fromEntries(chargeKinds.map((kind) => [kind, total]))),
    chargeCount: z.number().int(),
    consolidatedInto: z.string().nullable(),
    consolidated: z
      .object({
        total,
        currency: z.string(),
        branches: z.array(z.object({ customerId: z.string(), name: z.string(), total })),
      })
      .optional()
      .meta({
        description:
          'On a main office’s invoice under consolidated invoicing: its own charges and every branch’s',
      }),
  })
  .meta({ id: 'Invoice' });
export type InvoiceView = z.infer<typeof invoiceSchema>;
export const invoicePage = pageOf(invoiceSchema, 'InvoicePage');

export const invoiceParams = z.strictObject({ id: idSchema, period: periodSchema });
export const listInvoicesQuery = z.strictObject({ ...paginationQuery });

export const closePeriodBody = z.strictObject({ period: periodSchema }).meta({ id: 'ClosePeriod' });
export const periodCloseParams = z.strictObject({ period: periodSchema });

export const periodCloseSchema = z
  .object({
    period: z.string(),
    status: z.enum(['running', 'counting', 'closed']).meta({
      description:
        'running: charging the assigned DIDs; counting: every recurring charge written, the period closing once the aggregation has counted them all; closed: the invoices closed, holding them',
    }),
    shardsDone: z
      .number()
      .int()
      .meta({ description: 'Shards of the assigned DIDs charged, of shardCount' }),
    shardCount: z.number().int(),
    recurringCharges: z
      .number()
      .int()
      .meta({ description: 'Recurring DID charges written so far' }),
    recurringChargesCounted: z
      .number()
      .int()
      .meta({ description: 'Of those, the charges counted on their invoices' }),
    startedAt: z.string(),
    closedAt: z.string().nullable(),
  })
  .meta({ id: 'PeriodClose' });
export type PeriodCloseView = z.infer<typeof periodCloseSchema>;
