import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { WriteConflict } from '../../../../lib/data/table.js';
import { isWriteConflict } from '../../../../lib/data/write-conflicts.js';

const cancelledFor = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

describe('write conflicts', () => {
  it('counts a conflict with another transaction and a cancellation by conditions or conflicts', () => {
    expect(isWriteConflict(new TransactionConflictException({ message: 'x', $metadata: {} }))).toBe(
      true,
    );
    expect(isWriteConflict(cancelledFor('None', 'ConditionalCheckFailed'))).toBe(true);
    expect(isWriteConflict(cancelledFor('TransactionConflict', 'None'))).toBe(true);
    expect(isWriteConflict(new WriteConflict())).toBe(true);
  });

  it('does not retry cancellations a fresh attempt cannot change, nor other errors', () => {
    expect(isWriteConflict(cancelledFor('ValidationError', 'None'))).toBe(false);
    expect(isWriteConflict(cancelledFor('ConditionalCheckFailed', 'ThrottlingError'))).toBe(false);
    expect(
      isWriteConflict(new ConditionalCheckFailedException({ message: 'x', $metadata: {} })),
    ).toBe(false);
    expect(isWriteConflict(new Error('boom'))).toBe(false);
  });
});
