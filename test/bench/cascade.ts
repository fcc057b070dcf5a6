import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { boundedAll } from '../../lib/concurrency.js';
import { sharedDb } from '../../lib/data/client.js';
import { customerKey } from '../../lib/data/keys.js';
import { writeItem } from '../../lib/data/table.js';
import { branchTermination, cascadeLimits } from '../../lib/domain/termination/cascade.js';
import { seedHierarchy } from '../fixtures/seed.js';
import { printTable, ratio } from './report.js';
import type { BenchRuntime } from './support.js';

const large = Number(process.env.BENCH_CASCADE_LARGE ?? 10_000);

/** The latest terminatedAt among the branches: when the cascade's last write happened. */
async function lastTerminatedAt(ids: readonly string[]): Promise<number> {
  const { client, tableName } = sharedDb();
  let latest = 0;
  for (let start = 0; start < ids.length; start += 100) {
    const { Responses } = await client.send(
      new BatchGetCommand({
        RequestItems: {
          [tableName]: {
            Keys: ids.slice(start, start + 100).map(customerKey),
            ConsistentRead: true,
          },
        },
      }),
    );
    for (const item of Responses?.[tableName] ?? []) {
      if (item.status !== 'terminated')
        throw new Error(`branch ${item.id} is still ${item.status}`);
      latest = Math.max(latest, Date.parse(String(item.terminatedAt)));
    }
  }
  return latest;
}

/** An HQ and its branches created and linked through the API, as a user would. */
async function linkThroughApi(bench: BenchRuntime, branches: number) {
  const create = async (name: string) => {
    const answer = await bench.call('POST', '/customers', {
      name,
      businessModel: 'universal',
      currency: 'EUR',
    });
    if (answer.status !== 201) throw new Error(`create answered ${answer.status}`);
    return answer.json.id as string;
  };
  const mainOfficeId = await create('Cascade HQ');
  await bench.call('PATCH', `/customers/${mainOfficeId}/additional-info`, {
    officeHierarchy: { enabled: true, office: 'main' },
  });
  const names = Array.from({ length: branches }, (_, index) => `Cascade branch ${index}`);
  await boundedAll(names, 8, async (name) => {
    const id = await create(name);
    const answer = await bench.call('PATCH', `/customers/${id}/additional-info`, {
      officeHierarchy: { enabled: true, office: 'branch', mainOfficeId },
    });
    if (answer.status !== 200) throw new Error(`link answered ${answer.status}`);
  });
  return mainOfficeId;
}

/** Walks the HQ's branch list through the API; true when it shows every branch terminated. */
async function branchListShowsAllTerminated(
  bench: BenchRuntime,
  mainOfficeId: string,
  branches: number,
): Promise<boolean> {
  let terminated = 0;
  let cursor: string | undefined;
  do {
    const query = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await bench.call('GET', `/customers/${mainOfficeId}/branches?${query}`);
    if (page.status !== 200) throw new Error(`branch list answered ${page.status}`);
    terminated += page.json.items.filter(
      (branch: { status: string }) => branch.status === 'terminated',
    ).length;
    cursor = page.json.nextCursor ?? undefined;
  } while (cursor);
  return terminated === branches;
}

/**
 * What a user meets: seconds from the terminate's 200 until the HQ's branch list, read
 * through the API, shows every branch terminated.
 */
async function cascadeSecondsThroughApi(bench: BenchRuntime, branches: number): Promise<number> {
  const mainOfficeId = await linkThroughApi(bench, branches);
  await bench.runtime.streamsIdle();
  const answer = await bench.call('POST', `/customers/${mainOfficeId}/terminate`);
  const answeredAt = performance.now();
  if (answer.status !== 200) throw new Error(`terminate answered ${answer.status}`);
  while (!(await branchListShowsAllTerminated(bench, mainOfficeId, branches))) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return (performance.now() - answeredAt) / 1000;
}

/** Seconds from the terminate call's 200 to the last branch terminated. */
async function cascadeSeconds(bench: BenchRuntime, branches: number): Promise<number> {
  const { client, tableName } = sharedDb();
  const { mainOfficeId, branchIds } = await seedHierarchy(client, tableName, branches);
  const answer = await bench.call('POST', `/customers/${mainOfficeId}/terminate`);
  const answeredAt = Date.now();
  if (answer.status !== 200) throw new Error(`terminate answered ${answer.status}`);
  await bench.runtime.streamsIdle();
  return ((await lastTerminatedAt(branchIds)) - answeredAt) / 1000;
}

/**
 * The engine alone: the cascade's own conditional UpdateItems (`branchTermination`),
 * at the cascade's concurrency, on a hierarchy of the same size.
 */
async function engineSeconds(count: number): Promise<number> {
  const db = sharedDb();
  const { mainOfficeId, branchIds } = await seedHierarchy(db.client, db.tableName, count);
  const now = new Date().toISOString();
  const started = performance.now();
  await boundedAll(branchIds, cascadeLimits.concurrency, async (id) => {
    const outcome = await writeItem(db, branchTermination(id, mainOfficeId, now));
    if (!outcome.written) throw new Error(`branch ${id} was not terminated`);
  });
  return (performance.now() - started) / 1000;
}

/**
 * 1,000 branches linked through the API: seconds from the 200 of POST /terminate
 * until the branch list shows every branch terminated, against the engine's own time
 * for 1,000 conditional UpdateItems at the cascade's concurrency (aim ≤ 1.5); and,
 * seeded directly, the 10,000-branch time to the last branch's write.
 */
export async function benchCascade(bench: BenchRuntime) {
  const branches = Number(process.env.BENCH_CASCADE_BRANCHES ?? 1000);
  const throughApi = await cascadeSecondsThroughApi(bench, branches);
  const engine = await engineSeconds(branches);
  const largeSeconds = await cascadeSeconds(bench, large);
  const rows = [
    {
      hierarchy: `${branches} branches linked through the API`,
      'cascade s': throughApi.toFixed(2),
      'measured until': 'branch list shows all terminated',
      'engine s (the same UpdateItems)': engine.toFixed(2),
      ratio: ratio(throughApi, engine).toFixed(2),
      aim: '<= 1.5',
    },
    {
      hierarchy: `${large} branches seeded`,
      'cascade s': largeSeconds.toFixed(2),
      'measured until': 'last branch written',
      'engine s (the same UpdateItems)': '',
      ratio: '',
      aim: '',
    },
  ];
  printTable(
    `Termination cascade on the local runtime (concurrency ${cascadeLimits.concurrency})`,
    rows,
  );
  return rows;
}
