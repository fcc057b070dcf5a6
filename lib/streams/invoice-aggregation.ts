import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { type Charge, chargeSchema } from '../data/charge.js';
import { entityTypes } from '../data/keys.js';
import { newItemOf } from '../data/stream-images.js';
import { chargeIdentity, countCharges } from '../domain/billing/aggregation.js';
import { logger } from '../observability/logger.js';
import type { ServiceContext } from '../service-context.js';
import { defineStreamConsumer } from './consumer-definition.js';

/**
 * §9: every charge recorded reaches its invoice, exactly once (see
 * lib/domain/billing/aggregation.ts). Only a charge not counted yet is delivered: its
 * INSERT, or any later change of it before it is counted (touching it is how an
 * operator re-drives one whose stream record is gone); its marker's MODIFY, and
 * everything else, is filtered out before the function runs.
 */
export const invoiceAggregationConsumer = defineStreamConsumer({
  name: 'invoice-aggregation',
  entry: 'functions/streams/invoice-aggregation.ts',
  filterPatterns: [
    {
      eventName: ['INSERT', 'MODIFY'],
      dynamodb: {
        NewImage: {
          entityType: { S: [entityTypes.charge] },
          countedIn: { S: [{ exists: false }] },
        },
      },
    },
  ],
  // Large batches: the charges of one invoice in a batch cost one transaction. A second
  // of gathering makes them large under a steady trickle of charges too (an invoice
  // written once per second, not once per charge), and is the most an invoice lags.
  batchSize: 500,
  maxBatchingWindowSeconds: 1,
  retryAttempts: 8,
  maxRecordAgeSeconds: 12 * 60 * 60,
  // A poison record is split off until it is alone, then dead-lettered; the rest go on.
  bisectBatchOnError: true,
  parallelizationFactor: 4,
  timeoutSeconds: 120,
});

/**
 * Counts a batch's charges together. A record that is not a charge, or a charge that
 * can never be counted, is reported as failed, so it ends in the dead-letter queue
 * after its retries while the charges beside it are counted (those retried with it
 * are skipped: they are marked counted).
 */
export async function handleInvoiceRecords(
  ctx: ServiceContext,
  records: readonly DynamoDBRecord[],
): Promise<DynamoDBBatchResponse> {
  const failedSequences: string[] = [];
  const sequenceOf = new Map<string, string>();
  const batch: Charge[] = [];
  for (const record of records) {
    const sequence = record.dynamodb?.SequenceNumber ?? '';
    const parsed = chargeSchema.safeParse(newItemOf(record));
    if (!parsed.success) {
      logger.error('A charge record cannot be read', { sequence, issues: parsed.error.issues });
      failedSequences.push(sequence);
      continue;
    }
    batch.push(parsed.data);
    sequenceOf.set(chargeIdentity(parsed.data), sequence);
  }
  for (const uncountable of await countCharges(ctx, batch)) {
    logger.error(uncountable.message);
    failedSequences.push(sequenceOf.get(chargeIdentity(uncountable.charge)) ?? '');
  }
  return { batchItemFailures: failedSequences.map((itemIdentifier) => ({ itemIdentifier })) };
}
