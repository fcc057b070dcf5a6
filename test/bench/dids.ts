import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { boundedAll } from '../../lib/concurrency.js';
import { sharedDb } from '../../lib/data/client.js';
import { didNumbers } from '../../lib/data/did-number.js';
import { printTable, ratio } from './report.js';
import { type BenchRuntime, countRoundTrips, measureRoundTrips } from './support.js';

const pricing = {
  free: false,
  currency: 'EUR',
  activationFee: '1.00',
  recurringFee: '0.50',
  markupPercent: '10',
  roundingDecimals: 2,
};

/** `count` numbers of one area: +49301<prefix><index>. */
const berlinNumbers = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, index) => ({
    number: `+49301${prefix}${String(index).padStart(6, '0')}`,
    kind: 'local',
    country: 'DE',
    area: '30',
    activationCost: '1.50',
    recurringCost: '0.99',
  }));

async function createBatch(bench: BenchRuntime, name: string): Promise<string> {
  const answer = await bench.call('POST', '/did-batches', { name, source: 'inventory', pricing });
  return answer.json.id as string;
}

async function provisionedCustomer(bench: BenchRuntime, batchId: string): Promise<string> {
  const id = (
    await bench.call('POST', '/customers', {
      name: 'DID bench',
      businessModel: 'universal',
      currency: 'EUR',
    })
  ).json.id as string;
  await bench.call('PATCH', `/customers/${id}/additional-info`, {
    didAutoProvisioning: { enabled: true, batchId },
  });
  return id;
}

async function importAll(bench: BenchRuntime, batchId: string, numbers: readonly unknown[]) {
  for (let start = 0; start < numbers.length; start += 1000) {
    await bench.call('POST', `/did-batches/${batchId}/numbers`, {
      numbers: numbers.slice(start, start + 1000),
    });
  }
}

/** Round trips of every DID route against its minimum. */
async function roundTrips(bench: BenchRuntime) {
  const counter = countRoundTrips(sharedDb().client);
  let batchId = '';
  const customer = (
    await bench.call('POST', '/customers', {
      name: 'DID bench',
      businessModel: 'universal',
      currency: 'EUR',
    })
  ).json.id as string;
  const numbers = berlinNumbers('0', 10);
  const [a, b, c, d, e, f] = numbers.map(({ number }) => number) as string[];

  const rows = [
    await measureRoundTrips(
      counter,
      'POST did-batch (name registry + batch: one transaction)',
      1,
      async () => {
        const answer = await bench.call('POST', '/did-batches', {
          name: 'Bench batch',
          source: 'inventory',
          pricing,
        });
        batchId = answer.json.id;
        return answer;
      },
    ),
    await measureRoundTrips(counter, 'GET did-batch', 1, () =>
      bench.call('GET', `/did-batches/${batchId}`),
    ),
    await measureRoundTrips(counter, 'GET did-batches (one page of the name registry)', 1, () =>
      bench.call('GET', '/did-batches'),
    ),
    await measureRoundTrips(
      counter,
      'POST numbers, 10 (the batch, then one transaction of all 10)',
      2,
      () => bench.call('POST', `/did-batches/${batchId}/numbers`, { numbers }),
    ),
    await measureRoundTrips(
      counter,
      'PATCH panel enabling a named batch (read with the customer)',
      2,
      () =>
        bench.call('PATCH', `/customers/${customer}/additional-info`, {
          didAutoProvisioning: { enabled: true, batchId },
        }),
    ),
    await measureRoundTrips(
      counter,
      'GET did-offers (the customer with its batch, then one Query of the batch’s offers)',
      2,
      () => bench.call('GET', `/customers/${customer}/did-offers?kind=local&country=DE&area=30`),
    ),
    await measureRoundTrips(
      counter,
      'POST dids, 3 numbers (customer + numbers read together, then one transaction)',
      2,
      () => bench.call('POST', `/customers/${customer}/dids`, { numbers: [a, b, c] }),
    ),
    await measureRoundTrips(
      counter,
      'POST dids, 3 numbers with Idempotency-Key (the key rides in both)',
      2,
      () =>
        bench.call(
          'POST',
          `/customers/${customer}/dids`,
          { numbers: [d, e, f] },
          { 'idempotency-key': 'bench-assign' },
        ),
    ),
    await measureRoundTrips(counter, 'GET dids (the customer, then one Query)', 2, () =>
      bench.call('GET', `/customers/${customer}/dids`),
    ),
    await measureRoundTrips(counter, 'DELETE did (one transaction)', 1, () =>
      bench.call('DELETE', `/customers/${customer}/dids/${encodeURIComponent(a as string)}`),
    ),
  ];
  printTable('DynamoDB round trips per DID operation (sequential vs minimum)', rows);
  return rows;
}

/**
 * 20 customers taking 100 numbers one call per number, as fast as they can: each
 * owning 5 of them (uncontended), against all grabbing from all 100 at once in their
 * own random orders (contended: a number taken answers 409, and the grabber moves on).
 * Throughput is numbers assigned per second until all 100 are taken, and answers (201
 * or 409, each final) per second: under contention 19 of 20 calls lose, and a loss is
 * answered from the first read, without a transaction.
 */
async function contention(bench: BenchRuntime) {
  const customers = 20;
  const count = 100;
  const run = async (label: string, contended: boolean) => {
    const batchId = await createBatch(bench, `Contention ${label}`);
    const numbers = berlinNumbers(contended ? '1' : '2', count).map(({ number }) => number);
    await importAll(bench, batchId, berlinNumbers(contended ? '1' : '2', count));
    const grabbers = await Promise.all(
      Array.from({ length: customers }, () => provisionedCustomer(bench, batchId)),
    );
    let assigned = 0;
    let refused = 0;
    const started = performance.now();
    await Promise.all(
      grabbers.map(async (customer, index) => {
        const wanted = contended
          ? [...numbers].sort(() => Math.random() - 0.5)
          : numbers.slice(index * 5, index * 5 + 5);
        for (const number of wanted) {
          const answer = await bench.call('POST', `/customers/${customer}/dids`, {
            numbers: [number],
          });
          if (answer.status === 201) assigned += 1;
          else if (answer.status === 409) refused += 1;
          else throw new Error(`assignment answered ${answer.status}`);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const answered = assigned + refused;
    return {
      label,
      seconds,
      assigned,
      refused,
      rate: assigned / seconds,
      answerRate: answered / seconds,
    };
  };
  const uncontended = await run('uncontended', false);
  const contended = await run('contended', true);
  const rows = [uncontended, contended].map((result) => ({
    run: result.label,
    customers,
    numbers: count,
    assigned: result.assigned,
    'refused (409)': result.refused,
    seconds: result.seconds.toFixed(2),
    'assigned/s': result.rate.toFixed(1),
    'answers/s': result.answerRate.toFixed(1),
  }));
  rows.push({
    run: 'ratio contended/uncontended',
    customers,
    numbers: count,
    assigned: contended.assigned,
    'refused (409)': contended.refused,
    seconds: '',
    'assigned/s': ratio(contended.rate, uncontended.rate).toFixed(2),
    'answers/s': ratio(contended.answerRate, uncontended.answerRate).toFixed(2),
  });
  printTable(
    'DID assignment under contention: 20 customers, 100 numbers, one number per call',
    rows,
  );
  return rows;
}

/** Seeds `count` available numbers straight into the table: the API's import would time moto's transactions. */
async function seedInventory(bench: BenchRuntime, batchId: string, prefix: string, count: number) {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: bench.runtime.dynamodbEndpoint }),
  );
  const addedAt = new Date().toISOString();
  const items = berlinNumbers(prefix, count).map((entry) =>
    didNumbers.toItem({
      ...entry,
      kind: 'local',
      batchId,
      source: 'inventory',
      provider: null,
      status: 'available',
      customerId: null,
      assignedAt: null,
      releasedAt: null,
      addedAt,
      orderId: null,
      providerDidId: null,
    }),
  );
  const chunks = Array.from({ length: Math.ceil(items.length / 25) }, (_, index) =>
    items.slice(index * 25, index * 25 + 25),
  );
  await boundedAll(chunks, 8, async (chunk) => {
    let pending = chunk.map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const answer = await client.send(
        new BatchWriteCommand({ RequestItems: { [bench.runtime.tableName]: pending } }),
      );
      pending = (answer.UnprocessedItems?.[bench.runtime.tableName] ?? []) as typeof pending;
    }
  });
  client.destroy();
}

/** GET did-offers on a batch of 100,000 numbers against one of 100: the Query reads only the page. */
async function offerLatency(bench: BenchRuntime) {
  const counter = countRoundTrips(sharedDb().client);
  const samples = 30;
  const measure = async (count: number, prefix: string) => {
    const batchId = await createBatch(bench, `Offers ${count}`);
    await seedInventory(bench, batchId, prefix, count);
    const customer = await provisionedCustomer(bench, batchId);
    const path = `/customers/${customer}/did-offers?kind=local&country=DE&area=30&limit=50`;
    await bench.call('GET', path);
    const times: number[] = [];
    let scanned = 0;
    for (let sample = 0; sample < samples; sample++) {
      counter.reset();
      const started = performance.now();
      const answer = await bench.call('GET', path);
      times.push(performance.now() - started);
      scanned = counter.scanned;
      if (answer.status !== 200 || answer.json.items.length !== 50) {
        throw new Error(`offers answered ${answer.status}`);
      }
    }
    times.sort((x, y) => x - y);
    return { count, median: times[Math.floor(samples / 2)] as number, scanned };
  };
  const small = await measure(100, '3');
  const large = await measure(100_000, '4');
  const rows = [small, large].map((result) => ({
    'batch size': result.count,
    'median ms (page of 50)': result.median.toFixed(1),
    'items read per call': result.scanned,
  }));
  rows.push({
    'batch size': 'ratio 100,000 / 100' as never,
    'median ms (page of 50)': ratio(large.median, small.median).toFixed(2),
    'items read per call': '' as never,
  });
  printTable('DID offer latency by batch size (aim: ratio near 1)', rows);
  return rows;
}

export async function benchDids(bench: BenchRuntime) {
  return {
    roundTrips: await roundTrips(bench),
    contention: await contention(bench),
    offers: await offerLatency(bench),
  };
}
