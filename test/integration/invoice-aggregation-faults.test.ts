import { readFile, rm } from 'node:fs/promises';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Charge, charges } from '../../lib/data/charge.js';
import { createDocumentClient, sharedDb } from '../../lib/data/client.js';
import { chargeKey, invoiceKey } from '../../lib/data/keys.js';
import { formatMicros, microsOf } from '../../lib/domain/billing/amounts.js';
import { chargeKinds } from '../../lib/schemas/billing.js';
import type { ServiceContext } from '../../lib/service-context.js';
import {
  handleInvoiceRecords,
  invoiceAggregationConsumer,
} from '../../lib/streams/invoice-aggregation.js';
import {
  type CreatedCustomer,
  createConsolidatedGroup,
  createCustomer,
  linkBranch,
  patchPanel,
} from './support/customers.js';
import { injectFaults } from './support/faults.js';
import { startTestApi, type TestApi } from './support/local-api.js';

/**
 * Exactly once (§9), by fault injection. Through the local poller, with faults in the
 * client its handler uses (nothing else counts these charges, so a lost one shows): a
 * transaction that committed but whose answer was lost, a crash between two invoices'
 * writes, throttled writes; a poison record goes to the dead-letter queue while the
 * charges behind it are counted. And the handler called directly, racing the poller
 * (which catches double counting, not loss): a batch delivered twice, three handlers
 * on one batch, a crash and retry, throttling, and the property over random charges.
 */
const deadLetterFile = `.local/invoice-faults-${process.pid}.jsonl`;
let api: TestApi;
let ctx: ServiceContext;
let sequence = 0;

beforeAll(async () => {
  await rm(deadLetterFile, { force: true });
  // The poller runs the real consumer with few retries, so a poison record is dead-lettered quickly.
  api = await startTestApi({
    consumers: [{ ...invoiceAggregationConsumer, retryAttempts: 2 }],
    deadLetterFile,
  });
  ctx = {
    db: {
      client: createDocumentClient(api.runtime.dynamodbEndpoint),
      tableName: api.runtime.tableName,
    },
    now: () => new Date(),
    newId: () => `id-${Math.random().toString(36).slice(2)}`,
    didProviders: () => {
      throw new Error('no provider here');
    },
  };
});
afterAll(async () => {
  await api?.stop();
  await rm(deadLetterFile, { force: true });
});

const period = '2026-11';
let chargeIds = 0;

/** A charge as `POST …/charges` would record it, dated in the period. */
const chargeOf = (customerId: string, amount: string, kind: Charge['kind'] = 'usage'): Charge => ({
  id: `fault-${++chargeIds}`,
  customerId,
  amount,
  currency: 'EUR',
  kind,
  description: 'Injected',
  occurredAt: '2026-11-20T12:00:00.000Z',
  period: null,
});

/**
 * Writes the charges straight to the table (as the API would) and answers their INSERT
 * records. The local poller counts the same charges from the stream, so every direct
 * delivery here also races one more consumer.
 */
async function recorded(list: readonly Charge[]): Promise<DynamoDBRecord[]> {
  for (const charge of list) {
    await ctx.db.client.send(
      new PutCommand({ TableName: ctx.db.tableName, Item: charges.toItem(charge) }),
    );
  }
  return list.map((charge) => ({
    eventName: 'INSERT',
    dynamodb: {
      SequenceNumber: String(++sequence).padStart(21, '0'),
      NewImage: marshall(charges.toItem(charge), { removeUndefinedValues: true }) as never,
    },
  }));
}

const invoiceOf = async (customerId: string) =>
  (
    await api.request('GET', `/customers/${customerId}/invoices/${period}`, {
      token: api.tokens.admin,
    })
  ).body;

/** Runs the handler until it answers, as Lambda retries a batch that threw. */
async function deliver(records: readonly DynamoDBRecord[]) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await handleInvoiceRecords(ctx, records);
    } catch (error) {
      if (attempt >= 20) throw error;
    }
  }
}

const sumOf = (amounts: readonly string[]) =>
  formatMicros(amounts.reduce((sum, a) => sum + microsOf(a), 0n));

describe('a charge is counted once', () => {
  it('when its batch is delivered twice', async () => {
    const customer = await createCustomer(api, api.tokens.admin);
    const records = await recorded(
      ['1.10', '2.20', '0.000003'].map((a) => chargeOf(customer.id, a)),
    );
    await deliver(records);
    await deliver(records);
    await api.runtime.streamsIdle();
    expect(await invoiceOf(customer.id)).toMatchObject({ total: '3.300003', chargeCount: 3 });
  });

  it('when two consumers count the same batch at once', async () => {
    const customers = await Promise.all([1, 2, 3].map(() => createCustomer(api, api.tokens.admin)));
    const records = await recorded(
      customers.flatMap((c) => ['0.5', '0.25'].map((a) => chargeOf(c.id, a))),
    );
    await Promise.all([deliver(records), deliver(records), deliver([...records].reverse())]);
    await api.runtime.streamsIdle();
    for (const customer of customers) {
      expect(await invoiceOf(customer.id)).toMatchObject({ total: '0.75', chargeCount: 2 });
    }
  });

  it('when the handler crashes between two invoices’ writes and the batch is retried', async () => {
    const [a, b] = (await Promise.all([1, 2].map(() => createCustomer(api, api.tokens.admin)))) as [
      CreatedCustomer,
      CreatedCustomer,
    ];
    const records = await recorded([chargeOf(a.id, '7'), chargeOf(b.id, '9')]);
    const remove = injectFaults(ctx.db.client, {
      applies: (command) => command === 'TransactWriteItemsCommand',
      crashAt: [2],
    });
    try {
      await expect(handleInvoiceRecords(ctx, records)).rejects.toThrow('injected crash');
    } finally {
      remove();
    }
    await deliver(records);
    await api.runtime.streamsIdle();
    expect(await invoiceOf(a.id)).toMatchObject({ total: '7.00', chargeCount: 1 });
    expect(await invoiceOf(b.id)).toMatchObject({ total: '9.00', chargeCount: 1 });
  });

  it('under throttled writes', async () => {
    const customer = await createCustomer(api, api.tokens.admin);
    const amounts = Array.from({ length: 12 }, (_, index) => `0.0${index + 1}`);
    const records = await recorded(amounts.map((a) => chargeOf(customer.id, a)));
    const remove = injectFaults(ctx.db.client, {
      applies: (command) =>
        command === 'TransactWriteItemsCommand' || command === 'BatchGetItemCommand',
      throttleRate: 0.4,
    });
    try {
      for (const record of records) await deliver([record, ...records.slice(0, 3)]);
    } finally {
      remove();
    }
    await api.runtime.streamsIdle();
    expect(await invoiceOf(customer.id)).toMatchObject({ total: sumOf(amounts), chargeCount: 12 });
  });
});

describe('through the local poller, with faults in the consumer’s own client', () => {
  // Here only the poller counts: a charge it lost would be missing from the invoice.
  const chargeThroughApi = async (customerId: string, amount: string) => {
    const answer = await api.request('POST', `/customers/${customerId}/charges`, {
      token: api.tokens.switch,
      body: {
        amount,
        currency: 'EUR',
        kind: 'usage',
        description: 'Through the poller',
        occurredAt: '2026-11-22T08:00:00Z',
      },
    });
    expect(answer.status).toBe(201);
  };
  /** The aggregation's transactions for these customers' invoices, counted as they are sent. */
  const countingFor = (customers: readonly CreatedCustomer[]) => {
    const invoices = customers.map((c) => JSON.stringify(invoiceKey(c.id, period).pk));
    const seen = { requests: 0 };
    const applies = (command: string, input: Record<string, unknown>) => {
      const text = JSON.stringify(input);
      const matches =
        command === 'TransactWriteItemsCommand' &&
        text.includes(invoiceKey('', period).sk) &&
        invoices.some((pk) => text.includes(pk));
      if (matches) seen.requests += 1;
      return matches;
    };
    return { applies, seen };
  };

  it('counts each charge once when a transaction committed and its answer was lost, so the batch is retried', async () => {
    const customer = await createCustomer(api, api.tokens.admin);
    const { applies, seen } = countingFor([customer]);
    const remove = injectFaults(sharedDb().client, { applies, crashAfterAt: [1] });
    try {
      for (const amount of ['1.25', '2.5', '0.000001']) await chargeThroughApi(customer.id, amount);
      await api.runtime.streamsIdle();
    } finally {
      remove();
    }
    expect(seen.requests).toBeGreaterThan(1);
    expect(await invoiceOf(customer.id)).toMatchObject({ total: '3.750001', chargeCount: 3 });
  });

  it('loses no charge when the handler crashes between two invoices’ writes', async () => {
    const pair = await Promise.all([1, 2].map(() => createCustomer(api, api.tokens.admin)));
    const { applies, seen } = countingFor(pair);
    const remove = injectFaults(sharedDb().client, { applies, crashAt: [2] });
    try {
      for (const customer of pair) {
        await chargeThroughApi(customer.id, '7');
        await chargeThroughApi(customer.id, '0.5');
      }
      await api.runtime.streamsIdle();
    } finally {
      remove();
    }
    expect(seen.requests).toBeGreaterThan(2);
    for (const customer of pair) {
      expect(await invoiceOf(customer.id)).toMatchObject({ total: '7.50', chargeCount: 2 });
    }
  });

  it('counts every charge exactly once under throttled writes', async () => {
    const customer = await createCustomer(api, api.tokens.admin);
    const { applies, seen } = countingFor([customer]);
    // The SDK tries 3 times: the first transaction gives up and the batch is retried; a later one is retried by the SDK.
    const throttleAt = [1, 2, 3, 5];
    const remove = injectFaults(sharedDb().client, { applies, throttleAt });
    const amounts = Array.from(
      { length: 20 },
      (_, index) => `0.${String(index + 1).padStart(2, '0')}1`,
    );
    try {
      for (const amount of amounts) await chargeThroughApi(customer.id, amount);
      await api.runtime.streamsIdle();
    } finally {
      remove();
    }
    expect(seen.requests).toBeGreaterThanOrEqual(4);
    expect(await invoiceOf(customer.id)).toMatchObject({ total: sumOf(amounts), chargeCount: 20 });
  });
});

describe('a poison record', () => {
  it('is reported failed while the charges beside it are counted', async () => {
    const customer = await createCustomer(api, api.tokens.admin);
    const [good] = (await recorded([chargeOf(customer.id, '4')])) as [DynamoDBRecord];
    const [orphan] = (await recorded([chargeOf('no-such-customer', '1')])) as [DynamoDBRecord];
    const unreadable: DynamoDBRecord = {
      eventName: 'INSERT',
      dynamodb: {
        SequenceNumber: String(++sequence).padStart(21, '0'),
        NewImage: marshall({ pk: 'X', sk: 'Y' }) as never,
      },
    };
    const answer = await handleInvoiceRecords(ctx, [orphan, good, unreadable]);
    expect(answer.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      [orphan.dynamodb?.SequenceNumber, unreadable.dynamodb?.SequenceNumber].sort(),
    );
    await api.runtime.streamsIdle();
    expect(await invoiceOf(customer.id)).toMatchObject({ total: '4.00', chargeCount: 1 });
  });

  it('goes to the dead-letter queue through the poller without blocking the charges behind it', async () => {
    const customer = await createCustomer(api, api.tokens.admin);
    await recorded([chargeOf('ghost-customer', '1')]);
    const answer = await api.request('POST', `/customers/${customer.id}/charges`, {
      token: api.tokens.switch,
      body: {
        amount: '2.5',
        currency: 'EUR',
        kind: 'usage',
        description: 'Behind the poison',
        occurredAt: '2026-11-21T00:00:00Z',
      },
    });
    expect(answer.status).toBe(201);
    await api.runtime.streamsIdle();
    expect(await invoiceOf(customer.id)).toMatchObject({ total: '2.50', chargeCount: 1 });
    const entries = (await readFile(deadLetterFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const dead = entries.flatMap((entry) => entry.records);
    expect(
      dead.map((record: DynamoDBRecord) => record.dynamodb?.NewImage?.customerId?.S),
    ).toContain('ghost-customer');
    expect(
      dead.map((record: DynamoDBRecord) => record.dynamodb?.NewImage?.customerId?.S),
    ).not.toContain(customer.id);
  });
});

describe('a charge dead-lettered', () => {
  it('is counted once, after its cause is fixed, when its item is touched (the re-drive once its stream record is gone)', async () => {
    const customer = await createCustomer(api, api.tokens.admin);
    const charge = chargeOf(customer.id, '3.3');
    // Every attempt to count it fails until the fault is removed: it is dead-lettered.
    const remove = injectFaults(sharedDb().client, {
      applies: (command, input) =>
        command === 'TransactWriteItemsCommand' && JSON.stringify(input).includes(customer.id),
      always: true,
    });
    try {
      await recorded([charge]);
      await api.runtime.streamsIdle();
    } finally {
      remove();
    }
    expect(await invoiceOf(customer.id)).toMatchObject({ chargeCount: 0 });
    expect(await readFile(deadLetterFile, 'utf8')).toContain(customer.id);

    const touch = () =>
      ctx.db.client.send(
        new UpdateCommand({
          TableName: ctx.db.tableName,
          Key: chargeKey(customer.id, charge.id),
          UpdateExpression: 'SET redrivenAt = :now',
          ExpressionAttributeValues: { ':now': new Date().toISOString() },
        }),
      );
    await touch();
    await api.runtime.streamsIdle();
    expect(await invoiceOf(customer.id)).toMatchObject({ total: '3.30', chargeCount: 1 });
    // Counted, a touch is filtered out.
    await touch();
    await api.runtime.streamsIdle();
    expect(await invoiceOf(customer.id)).toMatchObject({ total: '3.30', chargeCount: 1 });
  });
});

describe('totals', () => {
  it('equal the exact sums of random charges delivered in random batches, some twice, over random branch membership (property)', async () => {
    const { hq, branches } = await createConsolidatedGroup(api, 'Property HQ', ['P1', 'P2', 'P3']);
    const loner = await createCustomer(api, api.tokens.admin, { name: 'P4' });
    const candidates = [...branches, loner];
    const members = [hq, ...candidates];
    const linked = new Set(branches.map((b) => b.id));
    const expected = new Map<string, Map<Charge['kind'], bigint>>(
      members.map((m) => [m.id, new Map(chargeKinds.map((kind) => [kind, 0n]))]),
    );
    // A candidate's part on the HQ's invoice: its charges counted while it was a branch.
    const parts = new Map<string, bigint>();
    // Where each candidate's invoice says its charges go: set by the last count.
    const consolidatedInto = new Map<string, string | null>();
    const totalOf = (customerId: string) =>
      [...(expected.get(customerId)?.values() ?? [])].reduce((sum, part) => sum + part, 0n);
    const amount = fc
      .tuple(
        fc.bigInt({ min: 0n, max: 10n ** 9n - 1n }),
        fc.integer({ min: 0, max: 6 }),
        fc.boolean(),
      )
      .map(([units, decimals, negative]) => {
        const digits = units.toString().padStart(decimals + 1, '0');
        const text =
          decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
        return { text: text.replace(/^0+(?=\d)/, ''), negative };
      })
      .filter(({ text }) => /^\d{1,9}(\.|$)/.test(text));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: candidates.length, maxLength: candidates.length }),
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: members.length - 1 }),
            amount,
            fc.constantFrom(...chargeKinds),
          ),
          { minLength: 1, maxLength: 25 },
        ),
        fc.integer({ min: 1, max: 10 }),
        async (membership, picks, batchSize) => {
          // This run's group: each candidate linked or unlinked as drawn.
          for (const [index, candidate] of candidates.entries()) {
            const wanted = membership[index] === true;
            if (wanted === linked.has(candidate.id)) continue;
            const answer = wanted
              ? await linkBranch(api, api.tokens.admin, candidate.id, hq.id)
              : await patchPanel(api, api.tokens.admin, candidate.id, {
                  officeHierarchy: { enabled: false },
                });
            expect(answer.status).toBe(200);
            if (wanted) linked.add(candidate.id);
            else linked.delete(candidate.id);
          }
          // Only a manual charge may be negative (a credit).
          const list = picks.map(([member, { text, negative }, kind]) =>
            chargeOf(
              members[member]?.id ?? loner.id,
              negative && kind === 'manual' ? `-${text}` : text,
              kind,
            ),
          );
          for (const charge of list) {
            const micros = microsOf(charge.amount);
            const byKind = expected.get(charge.customerId);
            byKind?.set(charge.kind, (byKind.get(charge.kind) ?? 0n) + micros);
            if (charge.customerId === hq.id) continue;
            const inGroup = linked.has(charge.customerId);
            consolidatedInto.set(charge.customerId, inGroup ? hq.id : null);
            if (inGroup)
              parts.set(charge.customerId, (parts.get(charge.customerId) ?? 0n) + micros);
          }
          const records = await recorded(list);
          for (let start = 0; start < records.length; start += batchSize) {
            const batch = records.slice(start, start + batchSize);
            await deliver(batch);
            if (start % 2 === 0) await deliver(batch);
          }
          await api.runtime.streamsIdle();
          for (const member of members) {
            const invoice = await invoiceOf(member.id);
            expect(invoice.total).toBe(formatMicros(totalOf(member.id)));
            expect(invoice.totalsByKind).toEqual(
              Object.fromEntries(
                chargeKinds.map((kind) => [
                  kind,
                  formatMicros(expected.get(member.id)?.get(kind) ?? 0n),
                ]),
              ),
            );
            if (consolidatedInto.has(member.id))
              expect(invoice.consolidatedInto).toBe(consolidatedInto.get(member.id));
          }
          const { consolidated } = await invoiceOf(hq.id);
          expect(consolidated.total).toBe(
            formatMicros([...parts.values()].reduce((sum, part) => sum + part, totalOf(hq.id))),
          );
          expect(
            Object.fromEntries(
              consolidated.branches.map((part: { customerId: string; total: string }) => [
                part.customerId,
                part.total,
              ]),
            ),
          ).toEqual(
            Object.fromEntries([...parts].map(([id, micros]) => [id, formatMicros(micros)])),
          );
        },
      ),
      { numRuns: 12 },
    );
  });
});
