import { DeleteCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { customerItem } from '../../../../../lib/data/customer.js';
import type { Caller } from '../../../../../lib/domain/access.js';
import { assignDids } from '../../../../../lib/domain/dids/assignment.js';
import type { KeyedAssignment } from '../../../../../lib/domain/dids/holdings.js';
import { AppError } from '../../../../../lib/errors.js';
import { assignDidsBody } from '../../../../../lib/schemas/customer-dids.js';
import { namesIn, valuesIn } from '../../../../fixtures/command-inputs.js';
import {
  chargeKey,
  contextWith,
  customerDid,
  customerDidItem,
  customerKey,
  didNumber,
  didNumberItem,
  didNumberKey,
  didOrderKey,
  fakeDidProvider,
  idempotencyRecordKey,
  providerOffer,
  providerTerms,
  provisionedCustomer,
} from '../../../../fixtures/did-records.js';
import {
  batchGets,
  cancellation,
  ddb,
  gets,
  type Item,
  store,
  transactions,
  writes,
  writesTo,
} from '../../../../fixtures/mocked-table.js';
import { admin, now, resellerR1 } from '../../../../fixtures/service-context.js';

const [n1, n2] = ['+4930111111', '+4930222222'];
const scope = 'reseller:r1|assignDids|c1|key-1';
const keyed: KeyedAssignment = {
  request: { scope, requestDigest: 'body-1' },
  storedAs: (result) => ({ statusCode: 201, headers: {}, body: JSON.stringify(result) }),
};
/** What the answer lists for a number held by c1 since now. */
const viewAt = (number: string, fields = {}) => {
  const {
    customerId: _c,
    source: _s,
    ...view
  } = customerDid('c1', number, {
    assignedAt: now,
    ...fields,
  });
  return view;
};
const activationCharge = (id: string, number: string, amount: string) =>
  expect.objectContaining({
    ...chargeKey('c1', id),
    kind: 'did_activation',
    amount,
    currency: 'EUR',
    occurredAt: now,
    description: expect.stringContaining(number),
  });
const storeInventory = (...numbers: string[]) =>
  store(
    customerItem(provisionedCustomer('c1')),
    ...numbers.map((number) => didNumberItem(didNumber(number))),
  );

describe('assignDids from an inventory batch', () => {
  it('reads everything in one BatchGetItem, then takes, copies and charges each number in ONE transaction', async () => {
    storeInventory(n1, n2);
    const { ctx } = contextWith();

    const outcome = await assignDids(ctx, resellerR1, 'c1', [n1, n2]);

    expect(outcome).toEqual({ result: { assigned: [viewAt(n1), viewAt(n2)] } });
    expect(gets()).toEqual([]);
    expect(batchGets()).toEqual([[customerKey('c1'), didNumberKey(n1), didNumberKey(n2)]]);
    expect(transactions()).toHaveLength(1);
    expect(transactions()[0]).toHaveLength(7);
    expect(writesTo(customerKey('c1'))).toEqual([
      { check: customerKey('c1'), values: expect.arrayContaining(['r1', 'active', true, 'b1']) },
    ]);
    for (const [number, chargeId] of [
      [n1, 'id-1'],
      [n2, 'id-2'],
    ] as const) {
      expect(writesTo(didNumberKey(number))).toEqual([
        {
          update: didNumberKey(number),
          values: expect.arrayContaining(['assigned', 'c1', now, 'available', 'b1']),
          conditioned: true,
        },
      ]);
      const copy = customerDidItem(customerDid('c1', number, { assignedAt: now }));
      expect(writesTo(copy)).toEqual([{ put: copy, conditioned: false }]);
      // 1.50 + 1.00 activation fee, in the batch's currency.
      expect(writesTo(chargeKey('c1', chargeId))).toEqual([
        { put: activationCharge(chargeId, number, '2.50'), conditioned: false },
      ]);
    }
    const update = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[1];
    // Taken off the batch's offers (the sparse index).
    expect(namesIn(update?.Update)).toEqual(
      expect.arrayContaining(['availableIn', 'availablePlace']),
    );
  });

  it('records the Idempotency-Key’s answer first in the same transaction, and replays it later', async () => {
    storeInventory(n1);
    const { ctx } = contextWith();

    const outcome = await assignDids(ctx, resellerR1, 'c1', [n1], keyed);

    const answer = { assigned: [viewAt(n1)] };
    expect(outcome).toEqual({ result: answer });
    expect(batchGets()[0]).toEqual([
      customerKey('c1'),
      idempotencyRecordKey(scope),
      didNumberKey(n1),
    ]);
    expect(transactions()[0]?.[0]).toEqual({
      put: expect.objectContaining({
        ...idempotencyRecordKey(scope),
        status: 'completed',
        requestDigest: 'body-1',
        response: keyed.storedAs(answer),
      }),
      conditioned: true,
    });

    // The same request again finds the record its transaction wrote.
    const recorded = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[0];
    store(recorded?.Put?.Item as Item);
    ddb.resetHistory();
    await expect(assignDids(ctx, resellerR1, 'c1', [n1], keyed)).resolves.toEqual({
      replay: keyed.storedAs(answer),
    });
    expect(writes()).toBe(0);
  });
});

describe('assignDids refusals', () => {
  const disabled = provisionedCustomer('c1', undefined, { did: { enabled: false } });
  const terminated = provisionedCustomer('c1', undefined, { status: 'terminated' });
  const resellerR2: Caller = { role: 'reseller', resellerId: 'r2' };

  it('answers 409 did_unavailable naming the numbers already taken, writing nothing', async () => {
    storeInventory(n1);
    store(didNumberItem(didNumber(n2, { status: 'assigned', customerId: 'c2' })));
    const { ctx } = contextWith();

    const refusal = assignDids(ctx, admin, 'c1', [n1, n2, '+4930333333']);

    await expect(refusal).rejects.toMatchObject({
      status: 409,
      code: 'did_unavailable',
      errors: [{ path: n2 }, { path: '+4930333333' }],
    });
    expect(writes()).toBe(0);
  });

  it('answers 409 did_unavailable naming the number another customer took before the transaction', async () => {
    storeInventory(n1, n2);
    const takenByC2 = didNumberItem(didNumber(n2, { status: 'assigned', customerId: 'c2' }));
    ddb.on(TransactWriteCommand).callsFake(async (input) => {
      store(takenByC2);
      throw cancellation(input, [{ key: didNumberKey(n2), was: takenByC2 }]);
    });
    const { ctx } = contextWith();

    await expect(assignDids(ctx, admin, 'c1', [n1, n2])).rejects.toMatchObject({
      status: 409,
      code: 'did_unavailable',
      errors: [{ path: n2 }],
    });
    // The numbers read again to name every one lost; the cancelled transaction is the only write.
    expect(batchGets()[1]).toEqual([didNumberKey(n1), didNumberKey(n2)]);
    expect(writes()).toBe(1);
  });

  it('answers 409 did_provisioning_disabled when the panel turned it off before the transaction', async () => {
    storeInventory(n1);
    ddb.on(TransactWriteCommand).callsFake(async (input) => {
      throw cancellation(input, [{ key: customerKey('c1'), was: customerItem(disabled) }]);
    });
    const { ctx } = contextWith();

    await expect(assignDids(ctx, admin, 'c1', [n1])).rejects.toMatchObject({
      code: 'did_provisioning_disabled',
    });
    expect(writes()).toBe(1);
  });

  it.each([
    ['a customer with it off', 'did_provisioning_disabled', disabled, admin, 'c1'],
    ['a terminated customer', 'customer_terminated', terminated, admin, 'c1'],
    ['an unknown customer', 'not_found', provisionedCustomer('c1'), admin, 'nope'],
    ['another reseller', 'not_found', provisionedCustomer('c1'), resellerR2, 'c1'],
  ])('refuses %s with %s before any write', async (_label, code, stored, caller, customerId) => {
    store(customerItem(stored), didNumberItem(didNumber(n1)));
    const { ctx } = contextWith();

    await expect(assignDids(ctx, caller, customerId, [n1])).rejects.toMatchObject({
      status: code === 'not_found' ? 404 : 409,
      code,
    });
    expect(writes()).toBe(0);
  });

  it.each([
    ['a number named twice', [n1, n1]],
    [
      'more than 20 numbers',
      Array.from({ length: 21 }, (_, i) => `+49301${String(i).padStart(5, '0')}`),
    ],
    ['no number', []],
  ])('refuses a body with %s', (_label, numbers) => {
    expect(assignDidsBody.safeParse({ numbers }).success).toBe(false);
  });
});

describe('assignDids from a provider batch', () => {
  const ordered = (onOrder: () => void = () => {}) =>
    fakeDidProvider({
      offers: [providerOffer(n1)],
      onCall: (call) => call.method === 'order' && onOrder(),
    });

  it('writes the intent and the hold, orders at the provider, then completes in a second transaction', async () => {
    store(customerItem(provisionedCustomer('c1', providerTerms)));
    let transactionsBeforeOrder = -1;
    const { provider, calls } = ordered(() => {
      transactionsBeforeOrder = transactions().length;
    });
    const { ctx, providersAsked } = contextWith(provider);

    const outcome = await assignDids(ctx, admin, 'c1', [n1]);

    // 2.00 + 1.00; 1.00 + 0.50 + 1.00 × 10 %.
    const prices = { batchId: 'p1', activationPrice: '3.00', recurringPrice: '1.60' };
    expect(outcome).toEqual({ result: { assigned: [viewAt(n1, prices)] } });
    expect(providersAsked).toContain('didww');
    expect(calls).toEqual([
      { method: 'find', args: [n1] },
      { method: 'order', args: [[providerOffer(n1)], 'id-1'] },
    ]);
    expect(transactionsBeforeOrder).toBe(1);
    const [intent, completion] = transactions();
    expect(intent).toEqual([
      { check: customerKey('c1'), values: expect.arrayContaining(['active', true, 'p1']) },
      {
        put: expect.objectContaining({
          ...didNumberKey(n1),
          status: 'ordering',
          orderId: 'id-1',
          batchId: 'p1',
          source: 'provider',
          customerId: null,
        }),
        conditioned: true,
      },
      {
        put: expect.objectContaining({
          ...didOrderKey('id-1'),
          status: 'ordering',
          customerId: 'c1',
          expiresAt: Date.parse(now) / 1000 + 5 * 60,
        }),
        conditioned: false,
      },
    ]);
    expect(completion).toEqual([
      { check: customerKey('c1'), values: expect.arrayContaining(['active', true]) },
      {
        update: didOrderKey('id-1'),
        values: expect.arrayContaining(['completed', 'ordering']),
        conditioned: true,
      },
      {
        update: didNumberKey(n1),
        values: expect.arrayContaining(['assigned', 'c1', now, `pd-${n1}`, 'ordering', 'id-1']),
        conditioned: true,
      },
      {
        put: customerDidItem(
          customerDid('c1', n1, { ...prices, source: 'provider', assignedAt: now }),
        ),
        conditioned: false,
      },
      { put: activationCharge('id-2', n1, '3.00'), conditioned: false },
    ]);
  });

  it('hands the intent to compensation and frees the key when the provider fails, answering its error', async () => {
    store(customerItem(provisionedCustomer('c1', providerTerms)));
    const failure = new AppError('provider_error', 'DIDWW answered 500');
    const { provider } = fakeDidProvider({
      offers: [providerOffer(n1)],
      order: async () => {
        throw failure;
      },
    });
    const { ctx } = contextWith(provider);

    await expect(assignDids(ctx, admin, 'c1', [n1], keyed)).rejects.toBe(failure);

    expect(transactions()).toHaveLength(1);
    expect(transactions()[0]?.[0]).toEqual({
      put: expect.objectContaining({ ...idempotencyRecordKey(scope), status: 'in_progress' }),
      conditioned: true,
    });
    const marks = ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(marks.map((input) => input.Key)).toEqual([didOrderKey('id-1')]);
    expect(valuesIn(marks[0])).toEqual(expect.arrayContaining(['compensating', 'ordering']));
    const freed = ddb.commandCalls(DeleteCommand).map((call) => call.args[0].input.Key);
    expect(freed).toEqual([idempotencyRecordKey(scope)]);
  });

  it('gives the order up as provider_error when the provider delivers fewer numbers than ordered', async () => {
    store(customerItem(provisionedCustomer('c1', providerTerms)));
    const { provider } = fakeDidProvider({
      offers: [providerOffer(n1), providerOffer(n2)],
      order: async () => [{ number: n1, providerDidId: `pd-${n1}` }],
    });
    const { ctx } = contextWith(provider);

    await expect(assignDids(ctx, admin, 'c1', [n1, n2])).rejects.toMatchObject({
      code: 'provider_error',
    });

    // Only the intent's transaction: nothing is assigned, and the intent goes to compensation.
    expect(transactions()).toHaveLength(1);
    const marks = ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(marks.map((input) => input.Key)).toEqual([didOrderKey('id-1')]);
    expect(valuesIn(marks[0])).toContain('compensating');
  });

  it.each([
    ['a number someone holds', true, []],
    ['a number the provider does not offer', false, [{ method: 'find', args: [n2] }]],
  ])(
    'answers 409 did_unavailable for %s, ordering and writing nothing',
    async (_label, held, asked) => {
      store(customerItem(provisionedCustomer('c1', providerTerms)));
      if (held) store(didNumberItem(didNumber(n2, { status: 'ordering', orderId: 'o9' })));
      const { provider, calls } = ordered();
      const { ctx } = contextWith(provider);

      await expect(assignDids(ctx, admin, 'c1', [n2])).rejects.toMatchObject({
        code: 'did_unavailable',
        errors: [{ path: n2 }],
      });
      expect(calls).toEqual(asked);
      expect(writes()).toBe(0);
    },
  );
});
