import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { sharedDb } from '../../lib/data/client.js';
import { customerKey } from '../../lib/data/keys.js';
import { cascadeLimits } from '../../lib/domain/termination/cascade.js';
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

/** The engine alone: the same conditional UpdateItems, at the cascade's concurrency. */
async function engineSeconds(count: number): Promise<number> {
  const { client, tableName } = sharedDb();
  const { branchIds } = await seedHierarchy(client, tableName, count);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: cascadeLimits.concurrency }, async () => {
      while (next < branchIds.length) {
        const id = branchIds[next++] as string;
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: customerKey(id),
            UpdateExpression: 'SET #status = :terminated, #version = #version + :one',
            ConditionExpression: '#status = :active',
            ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
            ExpressionAttributeValues: {
              ':terminated': 'terminated',
              ':active': 'active',
              ':one': 1,
            },
          }),
        );
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/**
 * Seconds from the 200 of POST /terminate to the last of 1,000 branches terminated,
 * against the engine's own time for 1,000 conditional UpdateItems at the same
 * concurrency (aim ≤ 1.5); and the 10,000-branch time.
 */
export async function benchCascade(bench: BenchRuntime) {
  const cascade = await cascadeSeconds(bench, 1000);
  const engine = await engineSeconds(1000);
  const largeSeconds = await cascadeSeconds(bench, large);
  const rows = [
    {
      branches: 1000,
      'cascade s (200 → last branch)': cascade.toFixed(2),
      'engine s (1,000 UpdateItems)': engine.toFixed(2),
      ratio: ratio(cascade, engine).toFixed(2),
      aim: '<= 1.5',
    },
    {
      branches: large,
      'cascade s (200 → last branch)': largeSeconds.toFixed(2),
      'engine s (1,000 UpdateItems)': '',
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
