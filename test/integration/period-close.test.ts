import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sharedDb } from '../../lib/data/client.js';
import { periodEndedEverywhereAt } from '../../lib/domain/billing/period-close.js';
import { previousPeriod } from '../../lib/domain/billing/periods.js';
import { createCustomer } from './support/customers.js';
import {
  assign,
  createBatch,
  freshNumbers,
  importInto,
  inventoryEntry,
  paidPricing,
  provisionedCustomer,
  type TableReader,
  tableReader,
} from './support/dids.js';
import { injectFaults } from './support/faults.js';
import { startTestApi, type TestApi } from './support/local-api.js';

/**
 * The monthly close (§9) through HTTP and the period-close consumer: one recurring
 * charge per assigned DID at its batch's recurring price, counted on the closed
 * period's invoice; the period's invoices closed; later charges of it counted in the
 * next period; a second close adding nothing.
 */
let api: TestApi;
let table: TableReader;
let paidBatch: string;
let freeBatch: string;

beforeAll(async () => {
  api = await startTestApi();
  table = tableReader(api);
  paidBatch = (await createBatch(api, { pricing: paidPricing() })).id;
  freeBatch = (await createBatch(api, { pricing: { free: true } })).id;
});
afterAll(async () => {
  table?.close();
  await api?.stop();
});

const close = (period: string, token = api.tokens.admin) =>
  api.request('POST', '/billing/close-period', { token, body: { period } });
const job = (period: string) =>
  api.request('GET', `/billing/close-period/${period}`, { token: api.tokens.admin });
const invoice = (customerId: string, period: string) =>
  api.request('GET', `/customers/${customerId}/invoices/${period}`, { token: api.tokens.admin });

/** A customer of the batch holding `count` fresh numbers of it (recurring price 1.59 on the paid batch). */
async function holder(batchId: string, count: number) {
  const customer = await provisionedCustomer(api, batchId);
  const numbers = freshNumbers(count);
  await importInto(
    api,
    batchId,
    numbers.map((number) => inventoryEntry(number)),
  );
  expect((await assign(api, customer.id, numbers)).status).toBe(201);
  return { customer, numbers };
}

const recurringCharges = async (customerId: string) =>
  (await table.charges(customerId)).filter((charge) => charge.kind === 'did_recurring');

describe('closing a period', () => {
  it('charges each assigned DID its recurring price on the period, closes it, and adds nothing the second time', async () => {
    const two = await holder(paidBatch, 2);
    const one = await holder(paidBatch, 1);
    const free = await holder(freeBatch, 1);
    await api.runtime.streamsIdle();

    const started = await close('2026-10');
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.body).toMatchObject({ period: '2026-10', status: 'running', shardCount: 16 });
    await api.runtime.streamsIdle();

    const done = await job('2026-10');
    expect(done.body).toMatchObject({
      status: 'closed',
      shardsDone: 16,
      recurringCharges: 3,
      recurringChargesCounted: 3,
      closedAt: expect.any(String),
    });
    expect(await invoice(two.customer.id, '2026-10')).toMatchObject({
      status: 200,
      body: {
        status: 'closed',
        total: '3.18',
        totalsByKind: { did_recurring: '3.18' },
        chargeCount: 2,
      },
    });
    expect((await invoice(one.customer.id, '2026-10')).body).toMatchObject({
      status: 'closed',
      total: '1.59',
    });
    expect((await invoice(free.customer.id, '2026-10')).body).toMatchObject({
      status: 'closed',
      total: '0.00',
      chargeCount: 0,
    });
    expect(await recurringCharges(free.customer.id)).toEqual([]);

    const again = await close('2026-10');
    expect(again.status).toBe(200);
    expect(again.body).toEqual(done.body);
    await api.runtime.streamsIdle();
    expect(await recurringCharges(two.customer.id)).toHaveLength(2);
    expect((await invoice(two.customer.id, '2026-10')).body.total).toBe('3.18');
  });

  it('closes the invoices only once they hold every recurring charge: counting until the aggregation has counted them', async () => {
    const holders = await Promise.all([holder(paidBatch, 2), holder(paidBatch, 1)]);
    await api.runtime.streamsIdle();
    // The aggregation's first transaction for this close's charges waits at the gate.
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let held = false;
    const remove = injectFaults(sharedDb().client, {
      applies: (command, input) =>
        command === 'TransactWriteItemsCommand' &&
        JSON.stringify(input).includes('countedIn') &&
        JSON.stringify(input).includes('did-recurring-2026-07'),
      before: async () => {
        held = true;
        await gate;
      },
    });
    try {
      expect((await close('2026-07')).status).toBe(202);
      await vi.waitFor(
        async () => {
          expect(held).toBe(true);
          expect((await job('2026-07')).body).toMatchObject({ shardsDone: 16 });
        },
        { timeout: 30_000, interval: 100 },
      );
      // Time for the job's last record to be handled (it would close the period here).
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      // Every number of the table is charged, these holders' among them.
      const counting = (await job('2026-07')).body;
      expect(counting).toMatchObject({ status: 'counting', closedAt: null });
      expect(counting.recurringCharges).toBeGreaterThanOrEqual(3);
      expect(counting.recurringChargesCounted).toBeLessThan(counting.recurringCharges);
      for (const { customer } of holders) {
        expect((await invoice(customer.id, '2026-07')).body.status).toBe('open');
      }
    } finally {
      open();
      remove();
    }
    await api.runtime.streamsIdle();
    const closed = (await job('2026-07')).body;
    expect(closed).toMatchObject({ status: 'closed' });
    expect(closed.recurringChargesCounted).toBe(closed.recurringCharges);
    const [two, one] = holders;
    expect((await invoice(two?.customer.id ?? '', '2026-07')).body).toMatchObject({
      status: 'closed',
      total: '3.18',
    });
    expect((await invoice(one?.customer.id ?? '', '2026-07')).body).toMatchObject({
      status: 'closed',
      total: '1.59',
    });
  });

  it('counts a charge of a closed period in the next open one', async () => {
    const customer = await createCustomer(api, api.tokens.admin, { name: 'Late caller' });
    const late = await api.request('POST', `/customers/${customer.id}/charges`, {
      token: api.tokens.switch,
      body: {
        amount: '0.25',
        currency: 'EUR',
        kind: 'usage',
        description: 'A call rated late',
        occurredAt: '2026-10-31T10:00:00Z',
      },
    });
    expect(late.status).toBe(201);
    await api.runtime.streamsIdle();
    expect((await invoice(customer.id, '2026-10')).body).toMatchObject({
      status: 'closed',
      chargeCount: 0,
    });
    expect((await invoice(customer.id, '2026-11')).body).toMatchObject({
      status: 'open',
      total: '0.25',
      chargeCount: 1,
    });
  });

  it('resumes after a crash mid-way and charges every number exactly once', async () => {
    const holders = await Promise.all(Array.from({ length: 6 }, () => holder(paidBatch, 5)));
    await api.runtime.streamsIdle();
    // The third page's transaction dies once; the stream retries the job's record.
    const remove = injectFaults(sharedDb().client, {
      applies: (command, input) =>
        command === 'TransactWriteItemsCommand' &&
        JSON.stringify(input).includes('PERIOD_CLOSE#2026-09'),
      crashAt: [3],
    });
    try {
      expect((await close('2026-09')).status).toBe(202);
      await api.runtime.streamsIdle();
    } finally {
      remove();
    }
    expect((await job('2026-09')).body).toMatchObject({ status: 'closed' });
    for (const { customer, numbers } of holders) {
      const charged = await recurringCharges(customer.id);
      expect(charged.map((charge) => charge.description).sort()).toEqual(
        numbers.map((number) => `DID ${number}, 2026-09`).sort(),
      );
      expect((await invoice(customer.id, '2026-09')).body).toMatchObject({ total: '7.95' });
    }
  });
});

describe('refusals', () => {
  it('answers 409 period_not_ended until the period has ended everywhere, 400 and 403 as it should, writing nothing', async () => {
    expect(await close('2026-12')).toMatchObject({
      status: 409,
      body: { code: 'period_not_ended' },
    });
    expect(await close('2027-01')).toMatchObject({ status: 409 });
    // Its end falls in the year 10000, which an ISO date string cannot even spell.
    expect(await close('9999-12')).toMatchObject({
      status: 409,
      body: { code: 'period_not_ended' },
    });
    expect(await job('9999-12')).toMatchObject({ status: 404 });
    for (const period of ['2026-13', '26-11', '2026-1', '']) {
      expect((await close(period)).status, period).toBe(400);
    }
    expect((await close('2026-08', api.tokens.switch)).status).toBe(403);
    expect(await job('2026-12')).toMatchObject({ status: 404, body: { code: 'not_found' } });
    expect(await job('2026-08')).toMatchObject({ status: 404 });
  });
});

describe('the monthly schedule’s function', () => {
  it('starts the close of the month before the one it runs in, once', async () => {
    const { handler } = await import('../../functions/scheduled/close-period.js');
    const { customer } = await holder(paidBatch, 1);
    await api.runtime.streamsIdle();
    const now = new Date();
    const previous = previousPeriod(
      `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`,
    );
    if (now < periodEndedEverywhereAt(previous)) {
      // Before 12:00 UTC on the 1st the month before has not ended everywhere (the schedule runs at 13:00).
      await expect(handler()).rejects.toMatchObject({ code: 'period_not_ended' });
      return;
    }

    await handler();
    await api.runtime.streamsIdle();
    expect((await job(previous)).body).toMatchObject({ status: 'closed' });
    await handler();
    await api.runtime.streamsIdle();
    const charged = (await recurringCharges(customer.id)).filter(
      (charge) => charge.period === previous,
    );
    expect(charged).toHaveLength(1);
  });
});
