import type { DynamoDBRecord } from 'aws-lambda';
import { parseCustomerRecord } from '../data/customer.js';
import { didNumbers } from '../data/did-number.js';
import { didOrders } from '../data/did-order.js';
import { entityTypes } from '../data/keys.js';
import { newItemOf, oldItemOf } from '../data/stream-images.js';
import { compensateOrder } from '../domain/dids/provider-orders.js';
import { finishProviderRelease, releaseDidsOfTerminated } from '../domain/dids/release.js';
import type { ServiceContext } from '../service-context.js';
import { defineStreamConsumer } from './consumer-definition.js';

/** The intents whose expiry (the TTL's delete) may leave a DID bought and not ours: see compensateOrder. */
const unfinishedOrderStatuses = ['ordering', 'compensating', 'compensated'];

/**
 * §8: every DID a terminated customer held goes back to its inventory or is released
 * at its provider; a provider number given up is released there; a provider order
 * that did not complete is undone. Its own consumer, with its own retries and
 * dead-letter queue, so a provider outage delays DID releases, never the termination
 * cascade.
 */
export const didReleaseConsumer = defineStreamConsumer({
  name: 'did-release',
  entry: 'functions/streams/did-release.ts',
  filterPatterns: [
    {
      dynamodb: {
        NewImage: { entityType: { S: [entityTypes.customer] }, status: { S: ['terminated'] } },
        OldImage: { status: { S: ['active'] } },
      },
    },
    {
      dynamodb: {
        NewImage: { entityType: { S: [entityTypes.didNumber] }, status: { S: ['releasing'] } },
      },
    },
    {
      dynamodb: {
        NewImage: { entityType: { S: [entityTypes.didOrder] }, status: { S: ['compensating'] } },
      },
    },
    {
      eventName: ['REMOVE'],
      dynamodb: {
        OldImage: {
          entityType: { S: [entityTypes.didOrder] },
          status: { S: unfinishedOrderStatuses },
        },
      },
    },
  ],
  batchSize: 20,
  // A provider outage is retried for hours, then the records wait in the dead-letter queue.
  retryAttempts: 20,
  maxRecordAgeSeconds: 12 * 60 * 60,
  bisectBatchOnError: true,
  parallelizationFactor: 4,
  timeoutSeconds: 300,
  callsDidProviders: true,
});

/**
 * One stream record. The filter patterns pick the records; the states are checked here
 * again, so a record that reaches the handler some other way (a replay, a test) acts
 * only on what it may: termination is final, and an order is undone only once it
 * failed or expired unfinished. What a record names is read again where a decision
 * depends on it.
 */
export async function handleDidReleaseRecord(
  ctx: ServiceContext,
  record: DynamoDBRecord,
): Promise<void> {
  if (record.eventName === 'REMOVE') {
    const item = oldItemOf(record);
    if (item?.entityType !== entityTypes.didOrder) return;
    const order = didOrders.parse(item);
    if (unfinishedOrderStatuses.includes(order.status)) return compensateOrder(ctx, order);
    return;
  }
  const item = newItemOf(record);
  if (!item) return;
  switch (item.entityType) {
    case entityTypes.customer: {
      const customer = parseCustomerRecord(item);
      if (customer.status === 'terminated') return releaseDidsOfTerminated(ctx, customer.id);
      return;
    }
    case entityTypes.didNumber:
      return finishProviderRelease(ctx, didNumbers.parse(item).number);
    case entityTypes.didOrder: {
      const order = didOrders.parse(item);
      if (order.status === 'compensating') return compensateOrder(ctx, order);
      return;
    }
  }
}
