import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lib/data/client.js';
import { billingPeriods } from '../../lib/data/invoice.js';
import { billingShardOf } from '../../lib/data/keys.js';
import { formatMicros, microsOf } from '../../lib/domain/billing/amounts.js';
import { periodOf } from '../../lib/domain/billing/periods.js';
import {
  type CreatedCustomer,
  createConsolidatedGroup,
  createCustomer,
  linkBranch,
  patchPanel,
} from './support/customers.js';
import {
  assign,
  createBatch,
  freshNumbers,
  importInto,
  inventoryEntry,
  provisionedCustomer,
  type TableReader,
  tableReader,
} from './support/dids.js';
import { startTestApi, type TestApi } from './support/local-api.js';

/**
 * Charges and invoices (§9) through HTTP: a charge reaches its invoice from the stream,
 * exactly, in the customer's period; the consolidated invoice of a main office; the
 * rule for changes; every refusal writes nothing.
 */
let api: TestApi;
let table: TableReader;

beforeAll(async () => {
  api = await startTestApi();
  table = tableReader(api);
});
afterAll(async () => {
  table?.close();
  await api?.stop();
});

const usage = (amount: string, fields: Record<string, unknown> = {}) => ({
  amount,
  currency: 'EUR',
  kind: 'usage',
  description: 'Call to +4930123456',
  occurredAt: '2026-11-15T10:00:00Z',
  ...fields,
});

const charge = (
  customerId: string,
  body: unknown,
  options: { token?: string; key?: string } = {},
) =>
  api.request('POST', `/customers/${customerId}/charges`, {
    token: options.token ?? api.tokens.switch,
    body,
    headers: options.key ? { 'idempotency-key': options.key } : {},
  });

const invoice = (customerId: string, period: string, token = api.tokens.admin) =>
  api.request('GET', `/customers/${customerId}/invoices/${period}`, { token });

async function charged(customerId: string, ...amounts: string[]) {
  for (const amount of amounts) {
    const answer = await charge(customerId, usage(amount));
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  }
}

describe('charges reach their invoice', () => {
  it('answers the charge and counts it exactly, by kind, in the period', async () => {
    const customer = await createCustomer(api, api.tokens.admin);
    const first = await charge(customer.id, usage('0.000125'));
    expect(first).toMatchObject({
      status: 201,
      body: {
        id: expect.any(String),
        customerId: customer.id,
        amount: '0.000125',
        currency: 'EUR',
        kind: 'usage',
        description: 'Call to +4930123456',
        occurredAt: '2026-11-15T10:00:00.000Z',
      },
    });
    await charged(customer.id, '12.5', '0.1', '0.2');
    const credit = await charge(
      customer.id,
      usage('-2.000001', { kind: 'manual', description: 'Goodwill credit' }),
      { token: api.tokens.admin },
    );
    expect(credit.status).toBe(201);
    await api.runtime.streamsIdle();

    const answer = await invoice(customer.id, '2026-11');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      customerId: customer.id,
      period: '2026-11',
      status: 'open',
      currency: 'EUR',
      // 0.000125 + 12.5 + 0.1 + 0.2 − 2.000001, exactly (0.1 + 0.2 is not 0.30000000000000004 here).
      total: '10.800124',
      totalsByKind: {
        usage: '12.800125',
        did_activation: '0.00',
        did_recurring: '0.00',
        manual: '-2.000001',
      },
      chargeCount: 5,
      consolidatedInto: null,
    });
    expect(answer.headers.get('etag')).toMatch(/^"\d+"$/);
  });

  it('puts a charge in the period of its moment in the customer’s timezone', async () => {
    const berlin = await createCustomer(api, api.tokens.admin, { timezone: 'Europe/Berlin' });
    const utc = await createCustomer(api, api.tokens.admin);
    const lateEvening = usage('1', { occurredAt: '2026-11-30T23:30:00Z' });
    expect((await charge(berlin.id, lateEvening)).status).toBe(201);
    expect((await charge(utc.id, lateEvening)).status).toBe(201);
    // An offset is read as the instant it names.
    expect(
      (await charge(utc.id, usage('2', { occurredAt: '2026-12-01T00:30:00+01:00' }))).status,
    ).toBe(201);
    await api.runtime.streamsIdle();
    expect((await invoice(berlin.id, '2026-12')).body).toMatchObject({
      total: '1.00',
      chargeCount: 1,
    });
    expect((await invoice(berlin.id, '2026-11')).body).toMatchObject({ chargeCount: 0 });
    expect((await invoice(utc.id, '2026-11')).body).toMatchObject({
      total: '3.00',
      chargeCount: 2,
    });
  });

  it('records a terminated customer’s late usage', async () => {
    const customer = await createCustomer(api, api.tokens.admin);
    expect(
      (
        await api.request('POST', `/customers/${customer.id}/terminate`, {
          token: api.tokens.admin,
        })
      ).status,
    ).toBe(200);
    expect((await charge(customer.id, usage('0.75'))).status).toBe(201);
    await api.runtime.streamsIdle();
    expect((await invoice(customer.id, '2026-11')).body).toMatchObject({ total: '0.75' });
  });

  it('replays a charge under its Idempotency-Key and counts it once', async () => {
    const customer = await createCustomer(api, api.tokens.admin);
    const first = await charge(customer.id, usage('0.05'), { key: `call-${customer.id}` });
    const again = await charge(customer.id, usage('0.05'), { key: `call-${customer.id}` });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await charge(customer.id, usage('0.06'), { key: `call-${customer.id}` });
    expect(other).toMatchObject({ status: 422, body: { code: 'idempotency_key_reused' } });
    await api.runtime.streamsIdle();
    expect(await table.charges(customer.id)).toHaveLength(1);
    expect((await invoice(customer.id, '2026-11')).body).toMatchObject({
      total: '0.05',
      chargeCount: 1,
    });
  });

  it('changes the invoice’s ETag when a charge is counted, and only then', async () => {
    const customer = await createCustomer(api, api.tokens.admin);
    await charged(customer.id, '1');
    await api.runtime.streamsIdle();
    const before = (await invoice(customer.id, '2026-11')).headers.get('etag');
    expect((await invoice(customer.id, '2026-11')).headers.get('etag')).toBe(before);
    await charged(customer.id, '1');
    await api.runtime.streamsIdle();
    expect((await invoice(customer.id, '2026-11')).headers.get('etag')).not.toBe(before);
  });

  it('lists the invoices newest first, a page at a time', async () => {
    const customer = await createCustomer(api, api.tokens.admin);
    for (const occurredAt of [
      '2026-09-10T00:00:00Z',
      '2026-10-10T00:00:00Z',
      '2026-11-10T00:00:00Z',
    ]) {
      expect((await charge(customer.id, usage('1', { occurredAt }))).status).toBe(201);
    }
    await api.runtime.streamsIdle();
    const first = await api.request('GET', `/customers/${customer.id}/invoices?limit=2`, {
      token: api.tokens.admin,
    });
    expect(first.body.items.map((item: { period: string }) => item.period)).toEqual([
      '2026-11',
      '2026-10',
    ]);
    const second = await api.request(
      'GET',
      `/customers/${customer.id}/invoices?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      { token: api.tokens.admin },
    );
    expect(second.body).toMatchObject({ items: [{ period: '2026-09' }], nextCursor: null });
  });

  it('counts a charge of a closed period in the next open one', async () => {
    const customer = await createCustomer(api, api.tokens.admin);
    await closeShardOf(customer.id, '2026-06');
    expect(
      (await charge(customer.id, usage('0.4', { occurredAt: '2026-06-15T10:00:00Z' }))).status,
    ).toBe(201);
    await api.runtime.streamsIdle();
    expect((await invoice(customer.id, '2026-06')).body).toMatchObject({
      status: 'closed',
      total: '0.00',
      chargeCount: 0,
    });
    expect((await invoice(customer.id, '2026-07')).body).toMatchObject({
      status: 'open',
      total: '0.40',
      chargeCount: 1,
    });
    expect(await table.charges(customer.id)).toMatchObject([{ countedIn: '2026-07' }]);
  });

  it('counts the activation charges a DID assignment records', async () => {
    const batch = await createBatch(api);
    const timezone = 'Pacific/Auckland';
    const customer = await provisionedCustomer(api, batch.id, { timezone });
    const numbers = freshNumbers(2);
    await importInto(
      api,
      batch.id,
      numbers.map((number) => inventoryEntry(number)),
    );
    const assigned = await assign(api, customer.id, numbers);
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
    await api.runtime.streamsIdle();

    const recorded = await table.charges(customer.id);
    expect(recorded.map((item) => item.kind)).toEqual(['did_activation', 'did_activation']);
    const period = periodOf(new Date(recorded[0]?.occurredAt), timezone);
    expect(recorded.map((item) => item.countedIn)).toEqual([period, period]);
    const total = formatMicros(
      assigned.body.assigned.reduce(
        (sum: bigint, did: { activationPrice: string }) => sum + microsOf(did.activationPrice),
        0n,
      ),
    );
    expect((await invoice(customer.id, period)).body).toMatchObject({
      total,
      totalsByKind: { usage: '0.00', did_activation: total, did_recurring: '0.00', manual: '0.00' },
      chargeCount: 2,
    });
  });
});

/** Closes the period's shard the customer's invoices are in, as the monthly close does at its end. */
async function closeShardOf(customerId: string, period: string) {
  const client = createDocumentClient(api.runtime.dynamodbEndpoint);
  try {
    await client.send(
      new PutCommand({
        TableName: api.runtime.tableName,
        Item: billingPeriods.toItem({
          period,
          shard: billingShardOf(customerId),
          closedAt: new Date().toISOString(),
          recurringCounted: 0,
        }),
      }),
    );
  } finally {
    client.destroy();
  }
}

describe('who may charge and read', () => {
  it('lets the switch and the admin charge, the customer and its reseller read, and no one else', async () => {
    const customer = await createCustomer(api, api.tokens.admin, { resellerId: 'r-billing' });
    for (const token of [
      await api.tokens.customer(customer.id),
      await api.tokens.reseller('r-billing'),
    ]) {
      expect((await charge(customer.id, usage('1'), { token })).status).toBe(403);
    }
    await charged(customer.id, '1');
    await api.runtime.streamsIdle();
    expect(
      (await invoice(customer.id, '2026-11', await api.tokens.customer(customer.id))).status,
    ).toBe(200);
    expect(
      (await invoice(customer.id, '2026-11', await api.tokens.reseller('r-billing'))).status,
    ).toBe(200);
    expect(
      (await invoice(customer.id, '2026-11', await api.tokens.reseller('r-other'))).status,
    ).toBe(404);
    expect(
      (await invoice(customer.id, '2026-11', await api.tokens.customer('someone'))).status,
    ).toBe(404);
  });
});

describe('bad input', () => {
  it('answers each its status and code and records no charge', async () => {
    const customer = await createCustomer(api, api.tokens.admin);
    const inTwoDays = new Date(Date.now() + 2 * 24 * 60 * 60 * 1000).toISOString();
    const cases: [unknown, number, string][] = [
      [usage('1', { currency: 'USD' }), 422, 'currency_mismatch'],
      [usage('1', { currency: 'EURO' }), 400, 'validation_failed'],
      [{ ...usage('1'), amount: 1.5 }, 400, 'validation_failed'],
      [usage('0.1234567'), 400, 'validation_failed'],
      [usage('1e3'), 400, 'validation_failed'],
      [usage('1000000000'), 400, 'validation_failed'],
      [usage('-1000000000', { kind: 'manual' }), 400, 'validation_failed'],
      [usage('-1'), 400, 'validation_failed'],
      [usage('+1'), 400, 'validation_failed'],
      [usage('1', { kind: 'roaming' }), 400, 'validation_failed'],
      [usage('1', { description: '' }), 400, 'validation_failed'],
      [usage('1', { occurredAt: inTwoDays }), 400, 'validation_failed'],
      [usage('1', { occurredAt: '1999-12-31T23:59:59Z' }), 400, 'validation_failed'],
      [usage('1', { occurredAt: '15/11/2026' }), 400, 'validation_failed'],
      [{ ...usage('1'), extra: true }, 400, 'validation_failed'],
    ];
    for (const [body, status, code] of cases) {
      const answer = await charge(customer.id, body, { token: api.tokens.admin });
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(answer.body.code).toBe(code);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
    }
    expect(await charge('no-such-customer', usage('1'))).toMatchObject({
      status: 404,
      body: { code: 'not_found' },
    });
    expect(await table.charges('no-such-customer')).toEqual([]);
    for (const period of ['2026-13', '26-11', '2026-1', 'november']) {
      const answer = await invoice(customer.id, period);
      expect(answer, period).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
    }
    await api.runtime.streamsIdle();
    expect(await table.charges(customer.id)).toEqual([]);
    expect(
      (await api.request('GET', `/customers/${customer.id}/invoices`, { token: api.tokens.admin }))
        .body,
    ).toEqual({ items: [], nextCursor: null });
  });
});

/** An HQ under consolidated invoicing with branches named Site 1, Site 2, … */
const consolidatedGroup = (branchCount: number) =>
  createConsolidatedGroup(
    api,
    'Group HQ',
    Array.from({ length: branchCount }, (_, index) => `Site ${index + 1}`),
  );

describe('the consolidated invoice', () => {
  it('names the main office on each branch’s invoice and sums the parts on the main office’s', async () => {
    const { hq, branches } = await consolidatedGroup(3);
    const [one, two, three] = branches as [CreatedCustomer, CreatedCustomer, CreatedCustomer];
    await charged(hq.id, '10.01');
    await charged(one.id, '1.1', '2.2');
    await charged(two.id, '0.000001');
    await charged(three.id, '5');
    await api.runtime.streamsIdle();

    for (const branch of branches) {
      expect((await invoice(branch.id, '2026-11')).body.consolidatedInto).toBe(hq.id);
    }
    const hqInvoice = (await invoice(hq.id, '2026-11')).body;
    expect(hqInvoice).toMatchObject({ total: '10.01', consolidatedInto: null });
    expect(hqInvoice.consolidated).toEqual({
      total: '18.310001',
      currency: 'EUR',
      branches: [
        { customerId: one.id, name: 'Site 1', total: '3.30' },
        { customerId: two.id, name: 'Site 2', total: '0.000001' },
        { customerId: three.id, name: 'Site 3', total: '5.00' },
      ],
    });
  });

  it('names the main office on a branch’s invoice before its first charge, while the main office consolidates', async () => {
    const { hq, branches } = await consolidatedGroup(1);
    const [branch] = branches as [CreatedCustomer];
    const empty = await invoice(branch.id, '2026-11');
    expect(empty.body).toMatchObject({ total: '0.00', chargeCount: 0, consolidatedInto: hq.id });

    expect(
      (
        await patchPanel(api, api.tokens.admin, hq.id, {
          officeHierarchy: { invoicing: 'individual' },
        })
      ).status,
    ).toBe(200);
    const individual = await invoice(branch.id, '2026-11');
    expect(individual.body).toMatchObject({ chargeCount: 0, consolidatedInto: null });
    expect(individual.headers.get('etag')).not.toBe(empty.headers.get('etag'));
  });

  it('counts a customer’s charges in the group’s from the moment it is linked as a branch, and never those before', async () => {
    const { hq } = await consolidatedGroup(0);
    const joining = await createCustomer(api, api.tokens.admin, { name: 'Joining site' });
    await charged(joining.id, '3');
    await api.runtime.streamsIdle();
    expect((await invoice(joining.id, '2026-11')).body.consolidatedInto).toBeNull();

    expect((await linkBranch(api, api.tokens.admin, joining.id, hq.id)).status).toBe(200);
    await charged(joining.id, '0.25');
    await api.runtime.streamsIdle();
    expect((await invoice(joining.id, '2026-11')).body).toMatchObject({
      total: '3.25',
      chargeCount: 2,
      consolidatedInto: hq.id,
    });
    expect((await invoice(hq.id, '2026-11')).body.consolidated).toEqual({
      total: '0.25',
      currency: 'EUR',
      branches: [{ customerId: joining.id, name: 'Joining site', total: '0.25' }],
    });
  });

  it('reads a consolidated total equal to the sum of its parts while charges are in flight, and exact once settled', async () => {
    const { hq, branches } = await consolidatedGroup(12);
    const members = [hq, ...branches];
    const amounts = Array.from(
      { length: 160 },
      (_, index) => `0.${String(index * 37 + 1).padStart(6, '0')}`,
    );
    const expected = new Map<string, bigint>();
    let sent = 0n;
    let writing = true;
    const writer = (async () => {
      for (let start = 0; start < amounts.length; start += 8) {
        await Promise.all(
          amounts.slice(start, start + 8).map((amount, offset) => {
            const { id } = members[(start + offset) % members.length] as CreatedCustomer;
            expected.set(id, (expected.get(id) ?? 0n) + microsOf(amount));
            sent += microsOf(amount);
            return charge(id, usage(amount));
          }),
        );
      }
      writing = false;
    })();
    // Each read is a consistent sum, never more than was sent before it answered, and no
    // total or part ever goes back (charges are only added).
    const seen = new Map<string, bigint>();
    const neverBack = (key: string, micros: bigint) => {
      expect(micros).toBeGreaterThanOrEqual(seen.get(key) ?? 0n);
      seen.set(key, micros);
    };
    let reads = 0;
    while (writing) {
      const { consolidated, total } = (await invoice(hq.id, '2026-11')).body;
      const ceiling = sent;
      const parts = consolidated.branches.reduce(
        (sum: bigint, branch: { customerId: string; total: string }) => {
          neverBack(branch.customerId, microsOf(branch.total));
          return sum + microsOf(branch.total);
        },
        microsOf(total),
      );
      expect(microsOf(consolidated.total)).toBe(parts);
      expect(microsOf(consolidated.total)).toBeLessThanOrEqual(ceiling);
      neverBack('consolidated', microsOf(consolidated.total));
      reads += 1;
    }
    await writer;
    await api.runtime.streamsIdle();
    expect(reads).toBeGreaterThan(0);
    const settled = (await invoice(hq.id, '2026-11')).body;
    expect(settled.consolidated.total).toBe(formatMicros(sent));
    expect(settled.total).toBe(formatMicros(expected.get(hq.id) ?? 0n));
    expect(
      Object.fromEntries(
        settled.consolidated.branches.map((part: { customerId: string; total: string }) => [
          part.customerId,
          part.total,
        ]),
      ),
    ).toEqual(
      Object.fromEntries(branches.map((b) => [b.id, formatMicros(expected.get(b.id) ?? 0n)])),
    );
  });

  it('moves no total already counted when a branch leaves, the HQ switches to individual, or the HQ is terminated', async () => {
    const { hq, branches } = await consolidatedGroup(2);
    const [leaving, staying] = branches as [CreatedCustomer, CreatedCustomer];
    await charged(leaving.id, '1');
    await charged(staying.id, '2');
    await api.runtime.streamsIdle();

    // Leaving: its later charges are its own; its part counted before stays.
    expect(
      (await patchPanel(api, api.tokens.admin, leaving.id, { officeHierarchy: { office: 'main' } }))
        .status,
    ).toBe(200);
    await charged(leaving.id, '4');
    await api.runtime.streamsIdle();
    expect((await invoice(leaving.id, '2026-11')).body).toMatchObject({
      total: '5.00',
      consolidatedInto: null,
    });

    // Individual invoicing from now on: the staying branch's later charges are not consolidated.
    expect(
      (
        await patchPanel(api, api.tokens.admin, hq.id, {
          officeHierarchy: { invoicing: 'individual' },
        })
      ).status,
    ).toBe(200);
    await charged(staying.id, '8');
    await api.runtime.streamsIdle();
    const afterSwitch = (await invoice(hq.id, '2026-11')).body.consolidated;
    expect(afterSwitch).toEqual({
      total: '3.00',
      currency: 'EUR',
      branches: [
        { customerId: leaving.id, name: 'Site 1', total: '1.00' },
        { customerId: staying.id, name: 'Site 2', total: '2.00' },
      ],
    });
    expect((await invoice(staying.id, '2026-11')).body).toMatchObject({
      total: '10.00',
      consolidatedInto: null,
    });

    // Back to consolidated, then the HQ terminated: late usage after it is not consolidated.
    expect(
      (
        await patchPanel(api, api.tokens.admin, hq.id, {
          officeHierarchy: { invoicing: 'consolidated' },
        })
      ).status,
    ).toBe(200);
    await charged(staying.id, '16');
    await api.runtime.streamsIdle();
    expect(
      (await api.request('POST', `/customers/${hq.id}/terminate`, { token: api.tokens.admin }))
        .status,
    ).toBe(200);
    await api.runtime.streamsIdle();
    await charged(staying.id, '32');
    await api.runtime.streamsIdle();
    expect((await invoice(hq.id, '2026-11')).body.consolidated.total).toBe('19.00');
    expect((await invoice(staying.id, '2026-11')).body).toMatchObject({
      total: '58.00',
      consolidatedInto: null,
    });
  });
});
