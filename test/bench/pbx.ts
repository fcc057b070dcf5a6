import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { sharedDb } from '../../lib/data/client.js';
import { entityTypes, pbxItemKey, pbxRegistryKey } from '../../lib/data/keys.js';
import { printTable, ratio } from './report.js';
import { type BenchRuntime, countRoundTrips, measureRoundTrips } from './support.js';

const extensionsPerList = Number(process.env.BENCH_EXTENSIONS ?? 1000);
const samples = 30;

/** Extensions written straight to the table (item and registry), as the API would leave them. */
async function seedExtensions(customerId: string, count: number): Promise<void> {
  const { client, tableName } = sharedDb();
  const numbers = Array.from({ length: count }, (_, index) => String(1000 + index));
  const items = [
    ...numbers.map((number) => ({
      ...pbxItemKey(customerId, 'extension', number),
      entityType: entityTypes.extension,
      number,
      name: `Ext ${number}`,
      ownerId: customerId,
      accountNumber: null,
    })),
    {
      ...pbxRegistryKey(customerId),
      own: new Set(numbers),
      reserved: new Set(numbers),
      revision: 1,
    },
  ];
  for (let start = 0; start < items.length; start += 25) {
    await client.send(
      new BatchWriteCommand({
        RequestItems: {
          [tableName]: items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } })),
        },
      }),
    );
  }
}

async function medianMillis(act: () => Promise<{ status: number }>): Promise<number> {
  const times: number[] = [];
  for (let sample = 0; sample < samples; sample += 1) {
    const started = performance.now();
    const { status } = await act();
    if (status !== 200) throw new Error(`list answered ${status}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

/**
 * Round trips of each PBX operation against its minimum, and a branch's list (its HQ
 * holding 1,000 extensions) against a plain customer's list of the same size.
 */
export async function benchPbx(bench: BenchRuntime) {
  const counter = countRoundTrips(sharedDb().client);
  const create = async (name: string) =>
    (await bench.call('POST', '/customers', { name, businessModel: 'cloud_pbx', currency: 'EUR' }))
      .json.id as string;
  const panel = (id: string) => `/customers/${id}/additional-info`;
  const hq = await create('PBX HQ');
  const branch = await create('PBX Branch');
  await bench.call('PATCH', panel(hq), { officeHierarchy: { enabled: true, office: 'main' } });
  await bench.call('PATCH', panel(branch), {
    officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: hq },
  });

  const rows = [
    await measureRoundTrips(counter, 'POST extension (HQ)', 2, () =>
      bench.call('POST', `/customers/${hq}/extensions`, { number: '10', name: 'Reception' }),
    ),
    await measureRoundTrips(counter, 'POST extension (branch)', 2, () =>
      bench.call('POST', `/customers/${branch}/extensions`, { number: '11', name: 'Desk' }),
    ),
    await measureRoundTrips(counter, 'POST hunt group (branch; members own + inherited)', 3, () =>
      bench.call('POST', `/customers/${branch}/hunt-groups`, {
        number: '20',
        name: 'Front',
        strategy: 'simultaneous',
        members: ['10', '11'],
      }),
    ),
    await measureRoundTrips(counter, 'GET extensions (HQ: own)', 1, () =>
      bench.call('GET', `/customers/${hq}/extensions`),
    ),
    await measureRoundTrips(counter, 'GET extensions (branch: own + inherited)', 2, () =>
      bench.call('GET', `/customers/${branch}/extensions`),
    ),
    await measureRoundTrips(counter, 'DELETE hunt group', 2, () =>
      bench.call('DELETE', `/customers/${branch}/hunt-groups/20`),
    ),
    await measureRoundTrips(counter, 'DELETE extension', 2, () =>
      bench.call('DELETE', `/customers/${branch}/extensions/11`),
    ),
  ];
  printTable('DynamoDB round trips per PBX operation (sequential vs minimum)', rows);

  const largeHq = await create('Large PBX HQ');
  const largeBranch = await create('Large PBX Branch');
  const plain = await create('Plain PBX');
  await bench.call('PATCH', panel(largeHq), { officeHierarchy: { enabled: true, office: 'main' } });
  await bench.call('PATCH', panel(largeBranch), {
    officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: largeHq },
  });
  await seedExtensions(largeHq, extensionsPerList);
  await seedExtensions(plain, extensionsPerList);
  const plainMs = await medianMillis(() =>
    bench.call('GET', `/customers/${plain}/extensions?limit=25`),
  );
  const branchMs = await medianMillis(() =>
    bench.call('GET', `/customers/${largeBranch}/extensions?limit=25`),
  );
  const row = {
    extensions: extensionsPerList,
    'branch list ms (median)': branchMs.toFixed(1),
    'plain list ms (median)': plainMs.toFixed(1),
    ratio: ratio(branchMs, plainMs).toFixed(2),
  };
  printTable(
    'First page of extensions: a branch of an HQ with 1,000 vs a customer with 1,000 of its own',
    [row],
  );
  return { rows, list: row };
}
