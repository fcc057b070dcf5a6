import type { DynamoDBRecord } from 'aws-lambda';
import { parseCascadeJob } from '../data/cascade-job.js';
import { parseCustomerRecord } from '../data/customer.js';
import { entityTypes } from '../data/keys.js';
import { newItemOf } from '../data/stream-images.js';
import { continueCascade, onCustomerTerminated } from '../domain/termination/cascade.js';
import { terminationEffects } from '../domain/termination/effects.js';
import type { ServiceContext } from '../service-context.js';
import { defineStreamConsumer } from './consumer-definition.js';

/**
 * §5: a customer that becomes terminated gets the termination effects, and a
 * main office's branches are terminated by a cascade job advanced through the stream.
 */
export const terminationCascadeConsumer = defineStreamConsumer({
  name: 'termination-cascade',
  entry: 'functions/streams/termination-cascade.ts',
  filterPatterns: [
    {
      dynamodb: {
        NewImage: { entityType: { S: [entityTypes.customer] }, status: { S: ['terminated'] } },
        OldImage: { status: { S: ['active'] } },
      },
    },
    {
      dynamodb: {
        NewImage: {
          entityType: { S: [entityTypes.terminationCascade] },
          status: { S: ['running'] },
        },
      },
    },
  ],
  batchSize: 100,
  retryAttempts: 10,
  // Records are retried for up to half the stream's 24-hour retention, then dead-lettered.
  maxRecordAgeSeconds: 12 * 60 * 60,
  bisectBatchOnError: true,
  // Batches of different partitions run side by side: several HQs' cascades at once.
  parallelizationFactor: 4,
  timeoutSeconds: 300,
});

/** One stream record: the current item decides, the record only says where to look. */
export async function handleTerminationRecord(
  ctx: ServiceContext,
  record: DynamoDBRecord,
): Promise<void> {
  const item = newItemOf(record);
  if (!item) return;
  if (item.entityType === entityTypes.customer)
    return onCustomerTerminated(ctx, parseCustomerRecord(item), terminationEffects);
  if (item.entityType === entityTypes.terminationCascade)
    return continueCascade(ctx, parseCascadeJob(item));
}
