import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { customerItem } from '../../../../../lib/data/customer.js';
import { digestOf } from '../../../../../lib/data/idempotency-record.js';
import { type KeyedCharge, recordCharge } from '../../../../../lib/domain/billing/charges.js';
import type { RecordChargeInput } from '../../../../../lib/schemas/billing.js';
import type { ServiceContext } from '../../../../../lib/service-context.js';
import { namesIn } from '../../../../fixtures/command-inputs.js';
import { customer } from '../../../../fixtures/customer-records.js';
import { chargeKey, customerKey, idempotencyRecordKey } from '../../../../fixtures/did-records.js';
import {
  cancelEvery,
  ddb,
  type Failure,
  type Item,
  transactions,
} from '../../../../fixtures/mocked-table.js';
import { now, unitContext } from '../../../../fixtures/service-context.js';

const chargeId = '01JDQ7ZK3M8V4T2W6X9Y0A1B2C';
const usage: RecordChargeInput = {
  amount: '0.0125',
  currency: 'EUR',
  kind: 'usage',
  description: 'call to +4930111111',
};
const scope = 'switch|recordCharge|c1|key-1';
const keyed: KeyedCharge = {
  request: { scope, requestDigest: 'body-1' },
  storedAs: (charge) => ({ statusCode: 201, headers: {}, body: JSON.stringify(charge) }),
};
const viewOf = (fields: Partial<RecordChargeInput> = {}) => ({
  id: chargeId,
  customerId: 'c1',
  ...usage,
  occurredAt: now,
  ...fields,
});
const transactItems = () =>
  ddb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems ?? []);

/** The completed record of the key, as an earlier request's transaction left it. */
const completedRecord = (requestDigest: string): Item => ({
  ...idempotencyRecordKey(scope),
  digest: digestOf(scope),
  status: 'completed',
  requestDigest,
  expiresAt: Math.floor(Date.parse(now) / 1000) + 3600,
  leaseExpiresAt: Date.parse(now),
  response: keyed.storedAs(viewOf()),
});

describe('recordCharge', () => {
  it('writes the customer’s check and the charge in ONE transaction and sends nothing else', async () => {
    const outcome = await recordCharge(unitContext, 'c1', usage);

    expect(outcome).toEqual({ result: viewOf() });
    expect(ddb.calls()).toHaveLength(1);
    expect(transactions()).toEqual([
      [
        { check: customerKey('c1'), values: ['EUR'] },
        {
          put: {
            ...chargeKey('c1', chargeId),
            entityType: 'charge',
            ...viewOf(),
            period: null,
          },
          conditioned: true,
        },
      ],
    ]);
    const [check] = transactItems()[0] ?? [];
    // The customer must exist and bill in this currency; its status is not asked (late usage is recorded).
    expect(namesIn(check?.ConditionCheck).sort()).toEqual(['currency', 'pk']);
    // The item as it was comes back, to tell 404 from 422.
    expect(check?.ConditionCheck?.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });

  it('records the Idempotency-Key’s answer first, in the same transaction', async () => {
    const outcome = await recordCharge(unitContext, 'c1', usage, keyed);

    expect(outcome).toEqual({ result: viewOf() });
    expect(ddb.calls()).toHaveLength(1);
    const [transaction] = transactions();
    expect(transaction).toHaveLength(3);
    expect(transaction?.[0]).toEqual({
      put: expect.objectContaining({
        ...idempotencyRecordKey(scope),
        status: 'completed',
        requestDigest: 'body-1',
        response: keyed.storedAs(viewOf()),
      }),
      conditioned: true,
    });
    expect(transaction?.slice(1)).toEqual([
      { check: customerKey('c1'), values: ['EUR'] },
      { put: expect.objectContaining(chargeKey('c1', chargeId)), conditioned: true },
    ]);
  });

  it.each([
    ['2026-11-28T12:00:00+02:00', '2026-11-28T10:00:00.000Z'],
    ['2026-11-27T23:30:00-11:00', '2026-11-28T10:30:00.000Z'],
    ['2026-11-28T10:00:00.5Z', '2026-11-28T10:00:00.500Z'],
    ['2000-01-01T00:00:00Z', '2000-01-01T00:00:00.000Z'],
  ])('records occurredAt %s in UTC as %s', async (given, stored) => {
    const outcome = await recordCharge(unitContext, 'c1', { ...usage, occurredAt: given });

    expect(outcome).toEqual({ result: viewOf({ occurredAt: stored }) });
    expect(transactions()[0]?.[1]).toMatchObject({ put: { occurredAt: stored } });
  });

  it('accepts an occurredAt up to 1 day after the context’s clock, and refuses one later or before 2000 without a write', async () => {
    const later: ServiceContext = { ...unitContext, now: () => new Date('2031-06-15T00:00:00Z') };

    await expect(
      recordCharge(later, 'c1', { ...usage, occurredAt: '2031-06-16T00:00:00Z' }),
    ).resolves.toMatchObject({ result: { occurredAt: '2031-06-16T00:00:00.000Z' } });
    ddb.resetHistory();

    for (const [ctx, occurredAt] of [
      [later, '2031-06-16T00:00:00.001Z'],
      [later, '2031-06-16T02:00:00.001+02:00'],
      [unitContext, '2026-11-29T10:00:01Z'],
      [unitContext, '1999-12-31T23:59:59.999Z'],
    ] as const) {
      await expect(
        recordCharge(ctx, 'c1', { ...usage, occurredAt }),
        occurredAt,
      ).rejects.toMatchObject({
        code: 'validation_failed',
        errors: [expect.objectContaining({ path: 'occurredAt' })],
      });
    }
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each<[string, Failure, object]>([
    ['the customer is absent', { key: customerKey('c1') }, { code: 'not_found', status: 404 }],
    [
      'the customer bills in another currency',
      { key: customerKey('c1'), was: customerItem(customer('c1', { currency: 'USD' })) },
      { code: 'currency_mismatch', status: 422, message: expect.stringContaining('USD') },
    ],
  ])('answers the cancelled transaction when %s, sent once', async (_case, failure, error) => {
    cancelEvery(failure);

    await expect(recordCharge(unitContext, 'c1', usage)).rejects.toMatchObject(error);
    expect(ddb.calls()).toHaveLength(1);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('replays the first answer when the key’s record is completed, even if the customer check failed too', async () => {
    cancelEvery(
      { key: idempotencyRecordKey(scope), was: completedRecord('body-1') },
      { key: customerKey('c1') },
    );

    await expect(recordCharge(unitContext, 'c1', usage, keyed)).resolves.toEqual({
      replay: keyed.storedAs(viewOf()),
    });
    expect(ddb.calls()).toHaveLength(1);
  });

  it('answers 422 idempotency_key_reused when the key’s record holds another body', async () => {
    cancelEvery({ key: idempotencyRecordKey(scope), was: completedRecord('body-2') });

    await expect(recordCharge(unitContext, 'c1', usage, keyed)).rejects.toMatchObject({
      code: 'idempotency_key_reused',
    });
    expect(ddb.calls()).toHaveLength(1);
  });
});
