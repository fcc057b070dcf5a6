import { sharedDb } from '../../lib/data/client.js';
import { seedHierarchy } from '../fixtures/seed.js';
import { printTable, ratio } from './report.js';
import {
  type BenchRuntime,
  countRoundTrips,
  measureRoundTrips,
  type RoundTripCounter,
} from './support.js';

const largeHierarchy = Number(process.env.BENCH_BRANCHES ?? 10_000);
const listSamples = 30;

const customerBody = (name: string) => ({ name, businessModel: 'universal', currency: 'EUR' });

/**
 * Sequential DynamoDB round trips of each panel operation beside its minimum, and
 * the branch list's latency for an HQ with 10,000 branches against one with a few.
 */
export async function benchPanel(bench: BenchRuntime) {
  const counter = countRoundTrips(sharedDb().client);
  const measure = (operation: string, minimum: number, act: () => Promise<{ status: number }>) =>
    measureRoundTrips(counter, operation, minimum, act);
  const create = async (name: string) =>
    (await bench.call('POST', '/customers', customerBody(name))).json.id as string;
  const hq = await create('Bench HQ');
  const branch = await create('Bench Branch');
  await bench.call('PATCH', `/customers/${hq}/additional-info`, {
    officeHierarchy: { enabled: true, office: 'main' },
  });
  const panel = (id: string) => `/customers/${id}/additional-info`;

  const rows = [
    await measure('GET panel (HQ or standalone)', 1, () => bench.call('GET', panel(hq))),
    await measure('PATCH aliasAuthDefault (HQ or standalone)', 1, () =>
      bench.call('PATCH', panel(hq), { aliasAuthDefault: 'enabled' }),
    ),
    await measure('PATCH link a branch', 2, () =>
      bench.call('PATCH', panel(branch), {
        officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: hq },
      }),
    ),
    await measure('GET panel (branch: shows its HQ’s invoicing)', 1, () =>
      bench.call('GET', panel(branch)),
    ),
    await measure('PATCH aliasAuthDefault (branch)', 1, () =>
      bench.call('PATCH', panel(branch), { aliasAuthDefault: 'disabled' }),
    ),
    await measure('GET /customers/{id}/branches (one page)', 1, () =>
      bench.call('GET', `/customers/${hq}/branches`),
    ),
    await measure('GET /customers?office=main (one page)', 1, () =>
      bench.call('GET', '/customers?office=main&q=bench'),
    ),
    await measure('PATCH unlink a branch', 2, () =>
      bench.call('PATCH', panel(branch), { officeHierarchy: { enabled: false } }),
    ),
  ];
  printTable('DynamoDB round trips per panel operation (sequential vs minimum)', rows);

  const small = await create('Small HQ');
  await bench.call('PATCH', panel(small), { officeHierarchy: { enabled: true, office: 'main' } });
  for (const name of ['s1', 's2', 's3']) {
    const id = await create(name);
    await bench.call('PATCH', panel(id), {
      officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: small },
    });
  }
  const { client, tableName } = sharedDb();
  const { mainOfficeId: large } = await seedHierarchy(client, tableName, largeHierarchy);
  const smallMs = await medianListMillis(bench, small);
  const smallRead = await itemsReadPerPage(bench, counter, small);
  const largeMs = await medianListMillis(bench, large);
  const largeRead = await itemsReadPerPage(bench, counter, large);
  const row = {
    branches: largeHierarchy,
    'items read, large HQ page': largeRead,
    'items read, small HQ page': smallRead,
    'large HQ page ms (median)': largeMs.toFixed(1),
    'small HQ page ms (median)': smallMs.toFixed(1),
    'latency ratio': ratio(largeMs, smallMs).toFixed(2),
  };
  printTable(`Branch list: first page of an HQ with ${largeHierarchy} branches vs one with 3`, [
    row,
  ]);
  return { rows, branchList: row };
}

/** What DynamoDB bills and waits for: the items one page's Query reads (26 at most: 25 + 1 look-ahead). */
async function itemsReadPerPage(
  bench: BenchRuntime,
  counter: RoundTripCounter,
  hq: string,
): Promise<number> {
  counter.reset();
  await bench.call('GET', `/customers/${hq}/branches?limit=25`);
  return counter.scanned;
}

async function medianListMillis(bench: BenchRuntime, hq: string): Promise<number> {
  const samples: number[] = [];
  for (let sample = 0; sample < listSamples; sample += 1) {
    const started = performance.now();
    const answer = await bench.call('GET', `/customers/${hq}/branches?limit=25`);
    if (answer.status !== 200) throw new Error(`branch list answered ${answer.status}`);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}
