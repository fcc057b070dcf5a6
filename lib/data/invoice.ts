import * as z from 'zod';
import type { ChargeKind } from './charge.js';
import type { Db } from './client.js';
import { defineEntity } from './entity.js';
import {
  billingPeriodKey,
  billingShardCount,
  consolidationPartition,
  consolidationPartKey,
  customerPartitionPrefix,
  entityTypes,
  invoiceKey,
  invoiceSortPrefix,
} from './keys.js';
import { type Page, queryPartitionPage } from './pagination.js';
import { queryItems } from './table.js';

/** An integer of micro-units as DynamoDB hands it back: a number, or a BigInt past 2^53. */
const micros = z
  .union([z.number().int(), z.bigint()])
  .transform((value) => BigInt(value))
  .default(0n);

/** The attribute each kind's total is added to (top-level, so `ADD` needs no map to exist). */
export const kindTotalAttribute = (kind: ChargeKind): string => `${kind}Micros`;

/**
 * A customer's invoice of one period (§9), written only by the invoice aggregation's
 * `ADD`s: totals in micro-units, the number of charges counted, and a version that
 * every count bumps (the ETag).
 */
const invoiceSchema = z.object({
  customerId: z.string(),
  period: z.string(),
  currency: z.string(),
  totalMicros: micros,
  usageMicros: micros,
  did_activationMicros: micros,
  did_recurringMicros: micros,
  manualMicros: micros,
  chargeCount: z.number().int().default(0),
  version: z.number().int(),
  /** The main office the last charges counted were consolidated into; null when counted on their own. */
  consolidatedInto: z.string().nullable().default(null),
});
export type InvoiceRecord = z.infer<typeof invoiceSchema>;

export const invoices = defineEntity({
  type: entityTypes.invoice,
  schema: invoiceSchema,
  keyOf: (invoice) => invoiceKey(invoice.customerId, invoice.period),
});

/** A branch's part of its main office's consolidated invoice, in one of the period's shards. */
const consolidationPartSchema = z.object({
  mainOfficeId: z.string(),
  branchId: z.string(),
  period: z.string(),
  /** The branch's name when its charges were last counted here. */
  name: z.string(),
  currency: z.string(),
  totalMicros: micros,
  chargeCount: z.number().int().default(0),
});
export type ConsolidationPart = z.infer<typeof consolidationPartSchema>;

export const consolidationParts = defineEntity({
  type: entityTypes.consolidationPart,
  schema: consolidationPartSchema,
  keyOf: (part) => consolidationPartKey(part.mainOfficeId, part.period, part.branchId),
});

/**
 * One shard of a period's state; a period is closed when its shards carry `closedAt`.
 * `recurringCounted` is how many of the close's recurring charges the aggregation has
 * counted for this shard's customers: the close waits until the 16 add up to the
 * charges it wrote, so a closed invoice holds them all.
 */
const billingPeriodSchema = z.object({
  period: z.string(),
  shard: z.number().int(),
  closedAt: z.string().nullable().default(null),
  recurringCounted: z.number().int().default(0),
});

export const billingPeriods = defineEntity({
  type: entityTypes.billingPeriod,
  schema: billingPeriodSchema,
  keyOf: (state) => billingPeriodKey(state.period, state.shard),
});

/** One page of a customer's invoices, newest period first: one strongly consistent Query. */
export const queryInvoices = (
  db: Db,
  customerId: string,
  page: { readonly limit: number; readonly cursor?: string | undefined },
): Promise<Page<InvoiceRecord>> =>
  queryPartitionPage(
    db,
    {
      partition: `${customerPartitionPrefix}${customerId}`,
      sortPrefix: invoiceSortPrefix,
      descending: true,
    },
    page,
    invoices.parse,
  );

/** Every branch part of a main office's consolidated invoice: one Query per shard, all at once. */
export async function queryConsolidationParts(
  db: Db,
  mainOfficeId: string,
  period: string,
): Promise<ConsolidationPart[]> {
  const shards = await Promise.all(
    Array.from({ length: billingShardCount }, (_, shard) =>
      queryAllOf(db, consolidationPartition(mainOfficeId, period, shard)),
    ),
  );
  return shards.flat().map(consolidationParts.parse);
}

async function queryAllOf(db: Db, partition: string) {
  const found = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await queryItems(db, {
      key: { partition: ['pk', partition] },
      startKey,
    });
    found.push(...page.items);
    startKey = page.lastKey;
  } while (startKey);
  return found;
}
