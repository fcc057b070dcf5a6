import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import autocannon from 'autocannon';
import { customerKey } from '../../lib/data/keys.js';
import { printTable, ratio } from './report.js';
import type { BenchRuntime } from './support.js';

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);

/** Raw GetItem throughput on the same engine at the same concurrency: the ceiling the API can reach. */
async function rawGetItemRate(endpoint: string, tableName: string, id: string): Promise<number> {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint }));
  const deadline = Date.now() + seconds * 1000;
  let completed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        await client.send(new GetCommand({ TableName: tableName, Key: customerKey(id) }));
        completed += 1;
      }
    }),
  );
  client.destroy();
  return completed / seconds;
}

async function httpRate(url: string, token: string): Promise<{ rate: number; non2xx: number }> {
  const result = await autocannon({
    url,
    connections: concurrency,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
  });
  return { rate: result.requests.average, non2xx: result.non2xx };
}

/** GET /customers/{id} through the local HTTP server against raw GetItem, as a ratio (aim ≥ 0.6). */
export async function benchThroughput(bench: BenchRuntime) {
  const created = await bench.call('POST', '/customers', {
    name: 'Hot',
    businessModel: 'universal',
    currency: 'EUR',
  });
  const id: string = created.json.id;
  const { runtime } = bench;
  // Warm both paths so neither pays for module loading or connection setup.
  await rawGetItemRate(runtime.dynamodbEndpoint, runtime.tableName, id);
  const raw = await rawGetItemRate(runtime.dynamodbEndpoint, runtime.tableName, id);
  const http = await httpRate(`${runtime.url}/customers/${id}`, bench.adminToken);
  const row = {
    concurrency,
    seconds,
    'raw GetItem req/s': raw.toFixed(0),
    'GET /customers/{id} req/s': http.rate.toFixed(0),
    non2xx: http.non2xx,
    ratio: ratio(http.rate, raw).toFixed(2),
    aim: '>= 0.6',
  };
  printTable('HTTP throughput vs raw GetItem on the same engine', [row]);
  return row;
}
