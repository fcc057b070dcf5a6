import type { DynamoDBRecord } from 'aws-lambda';
import { entityTypes } from '../data/keys.js';
import { periodCloses } from '../data/period-close.js';
import { newItemOf } from '../data/stream-images.js';
import { continuePeriodClose } from '../domain/billing/period-close.js';
import type { ServiceContext } from '../service-context.js';
import { defineStreamConsumer } from './consumer-definition.js';

/**
 * §9: the monthly close, one chunk per record of its running job (see
 * lib/domain/billing/period-close.ts), so a million assigned numbers are charged by
 * many short invocations, and a crash resumes from the last page written.
 */
export const periodCloseConsumer = defineStreamConsumer({
  name: 'period-close',
  entry: 'functions/streams/period-close.ts',
  filterPatterns: [
    {
      dynamodb: {
        NewImage: { entityType: { S: [entityTypes.periodClose] }, status: { S: ['running'] } },
      },
    },
  ],
  batchSize: 10,
  retryAttempts: 10,
  maxRecordAgeSeconds: 12 * 60 * 60,
  bisectBatchOnError: true,
  parallelizationFactor: 1,
  timeoutSeconds: 120,
});

export async function handlePeriodCloseRecord(
  ctx: ServiceContext,
  record: DynamoDBRecord,
): Promise<void> {
  const item = newItemOf(record);
  if (item?.entityType === entityTypes.periodClose) {
    await continuePeriodClose(ctx, periodCloses.parse(item));
  }
}
