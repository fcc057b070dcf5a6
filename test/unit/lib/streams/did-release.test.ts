import { DeleteCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { handler } from '../../../../functions/streams/did-release.js';
import { compileEventFilter } from '../../../../infra/local/event-filter.js';
import { customerItem } from '../../../../lib/data/customer.js';
import type { DidProvider } from '../../../../lib/domain/dids/provider.js';
import { AppError } from '../../../../lib/errors.js';
import type { ServiceContext } from '../../../../lib/service-context.js';
import { didReleaseConsumer, handleDidReleaseRecord } from '../../../../lib/streams/did-release.js';
import { valuesIn } from '../../../fixtures/command-inputs.js';
import { customer } from '../../../fixtures/customer-records.js';
import {
  chargeKey,
  contextWith,
  customerDid,
  customerDidItem,
  didNumber,
  didNumberItem,
  didNumberKey,
  didOrder,
  didOrderItem,
  didOrderKey,
  fakeDidProvider,
  providerDid,
} from '../../../fixtures/did-records.js';
import { ddb, queries, store, transactions, writes } from '../../../fixtures/mocked-table.js';
import { modifyRecord, streamRecord } from '../../../fixtures/stream-records.js';
import { terminatedShape } from '../../../fixtures/termination.js';

// The Lambda handler takes the shared context: here, each test's.
const shared = vi.hoisted(() => ({ ctx: undefined as ServiceContext | undefined }));
vi.mock('../../../../lib/service-context.js', () => ({ sharedServiceContext: () => shared.ctx }));

const modify = modifyRecord;

const [n1, n2] = ['+4930111111', '+4930222222'];
const terminating = modify(
  customerItem(customer('c1')),
  customerItem(customer('c1', terminatedShape())),
);
const orderItem = (status: 'ordering' | 'completed' | 'compensating' | 'compensated') =>
  didOrderItem(didOrder([n1, n2], { status }));
const compensating = modify(orderItem('ordering'), orderItem('compensating'));
const expired = (status: 'ordering' | 'completed' | 'compensating' | 'compensated') =>
  streamRecord('REMOVE', { oldImage: orderItem(status) });
const assigned = (number: string) => didNumberItem(providerDid(number, 'c1'));
const releasing = (number: string) =>
  didNumberItem(providerDid(number, 'c1', { status: 'releasing', customerId: null }));
const givenUp = (number: string, sequenceNumber?: string) =>
  modify(assigned(number), releasing(number), sequenceNumber);
const storeReleasing = (...numbers: string[]) => store(...numbers.map(releasing));

/** Order o1 held n1 when it failed, after buying it as pd-<n1>; a later order o2 holds n2. */
function failedOrder() {
  store(
    didNumberItem(didNumber(n1, { status: 'ordering', orderId: 'o1', batchId: 'p1' })),
    didNumberItem(didNumber(n2, { status: 'ordering', orderId: 'o2', batchId: 'p1' })),
  );
  return fakeDidProvider({
    owned: [
      { number: n1, providerDidId: `pd-${n1}` },
      { number: n2, providerDidId: `pd-${n2}` },
    ],
  });
}

describe('handleDidReleaseRecord', () => {
  it('releases the numbers of a customer that became terminated', async () => {
    ddb.on(QueryCommand).resolves({ Items: [customerDidItem(customerDid('c1', n1))] });
    const { ctx } = contextWith();

    await handleDidReleaseRecord(ctx, terminating);

    expect(valuesIn(queries()[0])).toContain('CUSTOMER#c1');
    expect(transactions()).toEqual([
      [
        expect.objectContaining({ delete: { pk: 'CUSTOMER#c1', sk: `DID#${n1}` } }),
        expect.objectContaining({
          update: didNumberKey(n1),
          values: expect.arrayContaining(['available']),
        }),
      ],
    ]);
  });

  it('releases a given-up provider number at its provider, then forgets it', async () => {
    storeReleasing(n1);
    const { provider, calls } = fakeDidProvider();
    const { ctx } = contextWith(provider);

    await handleDidReleaseRecord(ctx, givenUp(n1));

    expect(calls).toEqual([{ method: 'release', args: [`pd-${n1}`] }]);
    expect(ddb.commandCalls(DeleteCommand).map((call) => call.args[0].input.Key)).toEqual([
      didNumberKey(n1),
    ]);
  });

  it.each([
    ['a compensating order', compensating],
    ['the expiry of an order left ordering', expired('ordering')],
  ])(
    'undoes %s: releases what it bought, lifts its holds, marks it compensated',
    async (_label, record) => {
      const { provider, calls } = failedOrder();
      const { ctx } = contextWith(provider);

      await handleDidReleaseRecord(ctx, record);

      // n2 is held by another order: what the provider has under it is that order's.
      expect(calls).toEqual([
        { method: 'findOwned', args: [n1] },
        { method: 'release', args: [`pd-${n1}`] },
        { method: 'findOwned', args: [n2] },
      ]);
      expect(ddb.commandCalls(DeleteCommand).map((call) => call.args[0].input.Key)).toEqual([
        didNumberKey(n1),
      ]);
      const marks = ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
      expect(marks.map((input) => input.Key)).toEqual([didOrderKey('o1')]);
      expect(valuesIn(marks[0])).toContain('compensated');
    },
  );

  it.each([
    [
      'the deletion of a number',
      streamRecord('REMOVE', { oldImage: didNumberItem(didNumber(n1)) }),
    ],
    [
      'a new charge',
      streamRecord('INSERT', { newImage: { ...chargeKey('c1', 'ch1'), entityType: 'charge' } }),
    ],
    ['a record without images', streamRecord('MODIFY', {})],
    // Records the filter patterns keep out; the handler checks the states again.
    [
      'a change of an active customer',
      modify(customerItem(customer('c1')), customerItem(customer('c1', { name: 'Renamed' }))),
    ],
    ['a new order still ordering', streamRecord('INSERT', { newImage: orderItem('ordering') })],
    ['a completed order', modify(orderItem('ordering'), orderItem('completed'))],
    ['the expiry of a completed order', expired('completed')],
  ])('ignores %s', async (_label, record) => {
    const { provider, calls } = fakeDidProvider();
    const { ctx } = contextWith(provider);

    await handleDidReleaseRecord(ctx, record);

    expect(ddb.calls()).toHaveLength(0);
    expect(calls).toEqual([]);
  });

  it('fails with the provider’s error, forgetting nothing, so the record is retried', async () => {
    storeReleasing(n1);
    const failure = new AppError('provider_error', 'DIDWW answered 503');
    const { ctx } = contextWith(failingRelease(failure));

    await expect(handleDidReleaseRecord(ctx, givenUp(n1))).rejects.toBe(failure);
    expect(writes()).toBe(0);
  });
});

/** A provider whose release of pd-<n1> fails with `failure`. */
function failingRelease(failure: Error): DidProvider {
  const { provider } = fakeDidProvider();
  return {
    ...provider,
    release: async (providerDidId) => {
      if (providerDidId === `pd-${n1}`) throw failure;
      return provider.release(providerDidId);
    },
  };
}

describe('the did-release Lambda handler', () => {
  it('reports the record whose release failed in batchItemFailures, the others done', async () => {
    storeReleasing(n1, n2);
    shared.ctx = contextWith(failingRelease(new AppError('provider_error', 'down'))).ctx;

    const response = await handler(
      { Records: [givenUp(n1, '101'), givenUp(n2, '102')] },
      {} as Context,
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '101' }] });
    expect(ddb.commandCalls(DeleteCommand).map((call) => call.args[0].input.Key)).toEqual([
      didNumberKey(n2),
    ]);
  });
});

describe('the filter patterns of the did-release consumer', () => {
  const passes = compileEventFilter(didReleaseConsumer.filterPatterns);

  it.each([
    ['a customer becoming terminated', terminating],
    ['a provider number given up', givenUp(n1)],
    ['an order becoming compensating', compensating],
    ['the expiry of an order ordering', expired('ordering')],
    ['the expiry of an order compensating', expired('compensating')],
    ['the expiry of an order compensated', expired('compensated')],
  ])('accepts %s', (_label, record) => {
    expect(passes(record)).toBe(true);
  });

  it.each([
    [
      'a customer that stays active',
      modify(customerItem(customer('c1')), customerItem(customer('c1', { version: 5 }))),
    ],
    [
      'a customer already terminated',
      modify(
        customerItem(customer('c1', terminatedShape())),
        customerItem(customer('c1', { ...terminatedShape(), version: 5 })),
      ),
    ],
    ['a number being assigned', streamRecord('INSERT', { newImage: assigned(n1) })],
    ['the deletion of a released number', streamRecord('REMOVE', { oldImage: releasing(n1) })],
    ['a new order', streamRecord('INSERT', { newImage: orderItem('ordering') })],
    ['an order completing', modify(orderItem('ordering'), orderItem('completed'))],
    ['the expiry of a completed order', expired('completed')],
  ])('rejects %s', (_label, record) => {
    expect(passes(record)).toBe(false);
  });
});
