import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { transact, WriteConflict } from '../../../../lib/data/table.js';
import { isWriteConflict, retryOnWriteConflict } from '../../../../lib/data/write-conflicts.js';
import { unitContext } from '../../../fixtures/service-context.js';

const ddb = mockClient(DynamoDBDocumentClient);
const cancelledFor = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
const twoChecks = [
  { kind: 'check', key: { pk: 'A', sk: 'A' }, condition: { op: 'exists', path: 'pk' } },
  { kind: 'check', key: { pk: 'B', sk: 'B' }, condition: { op: 'exists', path: 'pk' } },
] as const;

beforeEach(() => ddb.reset());

describe('write conflicts', () => {
  it('counts a conflict with another transaction, and a transaction lost or refused without a declared error', async () => {
    expect(isWriteConflict(new TransactionConflictException({ message: 'x', $metadata: {} }))).toBe(
      true,
    );
    for (const codes of [
      ['None', 'ConditionalCheckFailed'],
      ['TransactionConflict', 'None'],
      // DynamoDB cancels a transaction it cannot fit in a partition's throughput.
      ['ConditionalCheckFailed', 'ThrottlingError'],
      ['ProvisionedThroughputExceeded', 'None'],
    ]) {
      ddb.on(TransactWriteCommand).rejects(cancelledFor(...codes));
      const error = await transact(unitContext.db, twoChecks).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(WriteConflict);
      expect(isWriteConflict(error)).toBe(true);
    }
  });

  it('does not retry cancellations a fresh attempt cannot change, nor other errors', async () => {
    for (const codes of [
      ['ValidationError', 'None'],
      ['ItemCollectionSizeLimitExceeded', 'ConditionalCheckFailed'],
    ]) {
      ddb.on(TransactWriteCommand).rejects(cancelledFor(...codes));
      const error = await transact(unitContext.db, twoChecks).catch((caught: unknown) => caught);
      expect(isWriteConflict(error)).toBe(false);
    }
    expect(
      isWriteConflict(new ConditionalCheckFailedException({ message: 'x', $metadata: {} })),
    ).toBe(false);
    expect(isWriteConflict(new Error('boom'))).toBe(false);
  });

  it('runs the work again after a conflict and answers 409 concurrent_update when conflicts go on', async () => {
    let attempts = 0;
    const outcome = await retryOnWriteConflict(async () => {
      attempts += 1;
      if (attempts < 3) throw new WriteConflict();
      return 'done';
    });
    expect({ outcome, attempts }).toEqual({ outcome: 'done', attempts: 3 });
    await expect(
      retryOnWriteConflict(async () => {
        throw new WriteConflict();
      }, 2),
    ).rejects.toMatchObject({ status: 409, code: 'concurrent_update' });
  });
});
