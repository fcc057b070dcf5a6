import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { boundedAll } from '../../lib/concurrency.js';
import { charges } from '../../lib/data/charge.js';
import { sharedDb } from '../../lib/data/client.js';
import { formatMicros, microsOf } from '../../lib/domain/billing/amounts.js';
import { printTable, ratio } from './report.js';
import { type BenchRuntime, countRoundTrips, measureRoundTrips } from './support.js';

const chargeCount = Number(process.env.BENCH_CHARGES ?? 10_000);
const branchCount = 100;
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);

const usage = (amount: string) => ({
  amount,
  currency: 'EUR',
  kind: 'usage',
  description: 'Bench call',
  occurredAt: '2026-11-15T10:00:00Z',
});

async function customer(bench: BenchRuntime, name: string): Promise<string> {
  const answer = await bench.call('POST', '/customers', {
    name,
    businessModel: 'universal',
    currency: 'EUR',
  });
  return answer.json.id as string;
}

/** An HQ under consolidated invoicing and its branches. */
async function consolidatedGroup(bench: BenchRuntime, branches: number) {
  const hq = await customer(bench, 'Bench HQ');
  await bench.call('PATCH', `/customers/${hq}/additional-info`, {
    officeHierarchy: { enabled: true, office: 'main', invoicing: 'consolidated' },
  });
  const ids: string[] = [];
  for (let index = 0; index < branches; index++) {
    const id = await customer(bench, `Bench site ${String(index).padStart(3, '0')}`);
    await bench.call('PATCH', `/customers/${id}/additional-info`, {
      officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: hq },
    });
    ids.push(id);
  }
  return { hq, branches: ids };
}

/** Round trips of the charge and invoice routes against their minimum (1 each). */
async function roundTrips(bench: BenchRuntime) {
  const counter = countRoundTrips(sharedDb().client);
  const { hq, branches } = await consolidatedGroup(bench, 3);
  const branch = branches[0] as string;
  await bench.call('POST', `/customers/${branch}/charges`, usage('1'));
  await bench.runtime.streamsIdle();
  const rows = [
    await measureRoundTrips(
      counter,
      'POST charges (one transaction: customer check + charge)',
      1,
      () => bench.call('POST', `/customers/${branch}/charges`, usage('0.01')),
    ),
    await measureRoundTrips(
      counter,
      'POST charges with Idempotency-Key (the key in the same transaction)',
      1,
      () =>
        bench.call('POST', `/customers/${branch}/charges`, usage('0.01'), {
          'idempotency-key': 'bench-charge',
        }),
    ),
    await measureRoundTrips(
      counter,
      'GET invoice of a branch (customer, invoice, period read together; parts beside)',
      1,
      () => bench.call('GET', `/customers/${branch}/invoices/2026-11`),
    ),
    await measureRoundTrips(
      counter,
      'GET consolidated invoice of the HQ (the same, 16 part queries beside)',
      1,
      () => bench.call('GET', `/customers/${hq}/invoices/2026-11`),
    ),
  ];
  printTable('DynamoDB round trips per billing operation (sequential vs minimum)', rows);
  return rows;
}

/**
 * 10,000 charges over an HQ and 100 branches, consolidated, through the local API at a
 * bounded concurrency, until every invoice and the consolidated total are exact;
 * against the engine's own time for 10,000 plain puts of the same charge items.
 */
async function aggregation(bench: BenchRuntime) {
  const { hq, branches } = await consolidatedGroup(bench, branchCount);
  const members = [hq, ...branches];
  const amounts = Array.from(
    { length: chargeCount },
    (_, index) => `0.${String((index * 7919) % 1_000_000).padStart(6, '0')}`,
  );
  const expected = new Map<string, bigint>();
  const started = performance.now();
  await boundedAll(
    amounts.map((amount, index) => ({
      amount,
      customerId: members[index % members.length] as string,
    })),
    concurrency,
    async ({ amount, customerId }) => {
      expected.set(customerId, (expected.get(customerId) ?? 0n) + microsOf(amount));
      const answer = await bench.call('POST', `/customers/${customerId}/charges`, usage(amount));
      if (answer.status !== 201) throw new Error(`charge answered ${answer.status}`);
    },
  );
  const recorded = (performance.now() - started) / 1000;
  await bench.runtime.streamsIdle();
  const settled = (performance.now() - started) / 1000;
  const hqInvoice = (await bench.call('GET', `/customers/${hq}/invoices/2026-11`)).json;
  const total = [...expected.values()].reduce((sum, value) => sum + value, 0n);
  const exact = hqInvoice.consolidated.total === formatMicros(total);
  // Every invoice, and every part of the consolidated one (checked after the clock stopped).
  const parts = new Map<string, string>(
    hqInvoice.consolidated.branches.map((part: { customerId: string; total: string }) => [
      part.customerId,
      part.total,
    ]),
  );
  for (const id of members) {
    const answer = (await bench.call('GET', `/customers/${id}/invoices/2026-11`)).json;
    const want = formatMicros(expected.get(id) ?? 0n);
    if (answer.total !== want) throw new Error(`invoice of ${id} is ${answer.total}, not ${want}`);
    if (id !== hq && parts.get(id) !== want)
      throw new Error(`part of ${id} is ${parts.get(id)}, not ${want}`);
  }
  if (!exact)
    throw new Error(
      `consolidated total ${hqInvoice.consolidated.total} is not ${formatMicros(total)}`,
    );

  const raw = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: bench.runtime.dynamodbEndpoint }),
  );
  const rawStarted = performance.now();
  await boundedAll([...amounts.entries()], concurrency, async ([index, amount]) => {
    await raw.send(
      new PutCommand({
        TableName: bench.runtime.tableName,
        Item: {
          ...charges.toItem({
            id: `raw-${index}`,
            customerId: 'raw-bench',
            amount,
            currency: 'EUR',
            kind: 'usage',
            description: 'Bench call',
            occurredAt: '2026-11-15T10:00:00.000Z',
            period: null,
          }),
          // Not a charge for the consumers: a plain write of the same size.
          entityType: 'benchRawWrite',
        },
      }),
    );
  });
  const rawSeconds = (performance.now() - rawStarted) / 1000;
  raw.destroy();
  const rows = [
    {
      run: `${chargeCount} charges through the API, HQ + ${branchCount} branches`,
      'recorded (s)': recorded.toFixed(1),
      'all invoices exact (s)': settled.toFixed(1),
      'charges/s recorded': (chargeCount / recorded).toFixed(0),
      'charges/s aggregated': (chargeCount / settled).toFixed(0),
    },
    {
      run: `${chargeCount} plain puts of the same items, straight to the engine`,
      'recorded (s)': rawSeconds.toFixed(1),
      'all invoices exact (s)': '',
      'charges/s recorded': (chargeCount / rawSeconds).toFixed(0),
      'charges/s aggregated': '',
    },
    {
      run: 'ratio (exact invoices / plain puts)',
      'recorded (s)': '',
      'all invoices exact (s)': ratio(settled, rawSeconds).toFixed(2),
      'charges/s recorded': '',
      'charges/s aggregated': '',
    },
  ];
  printTable(`Invoice aggregation, ${concurrency} concurrent callers (aim: ratio ≤ 2.0)`, rows);
  return rows;
}

export async function benchBilling(bench: BenchRuntime) {
  return { roundTrips: await roundTrips(bench), aggregation: await aggregation(bench) };
}
