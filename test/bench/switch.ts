import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import autocannon from 'autocannon';
import { signLocalToken } from '../../infra/local/jwt.js';
import { sharedDb } from '../../lib/data/client.js';
import { phoneLineKey } from '../../lib/data/keys.js';
import { printTable, ratio } from './report.js';
import { type BenchRuntime, countRoundTrips, measureRoundTrips } from './support.js';

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);

async function rawGetItemRate(
  endpoint: string,
  tableName: string,
  number: string,
): Promise<number> {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint }));
  const deadline = Date.now() + seconds * 1000;
  let completed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        await client.send(
          new GetCommand({ TableName: tableName, Key: phoneLineKey(number), ConsistentRead: true }),
        );
        completed += 1;
      }
    }),
  );
  client.destroy();
  return completed / seconds;
}

/**
 * Round trips of the line registrations, against their minimum: an account in one
 * transaction (two when an admin registers one for a reseller's customer, whose
 * reseller the line copies), an alias in three (the account's line and the system
 * configuration, then its customer, then the transaction).
 */
async function benchRegistrations(bench: BenchRuntime) {
  const counter = countRoundTrips(sharedDb().client);
  const resellerToken = await signLocalToken(bench.jwtSecret, {
    role: 'reseller',
    resellerId: 'bench-r1',
  });
  const asReseller = { authorization: `Bearer ${resellerToken}` };
  const unowned = await bench.call('POST', '/customers', {
    name: 'Lines',
    businessModel: 'universal',
    currency: 'EUR',
  });
  const owned = await bench.call(
    'POST',
    '/customers',
    { name: 'Reseller lines', businessModel: 'universal', currency: 'EUR' },
    asReseller,
  );
  const accountsOf = (id: string) => `/customers/${id}/accounts`;
  const rows = [
    await measureRoundTrips(counter, 'POST /customers/{id}/accounts (admin, no reseller)', 1, () =>
      bench.call('POST', accountsOf(unowned.json.id), { number: '+4930998000001' }),
    ),
    await measureRoundTrips(counter, 'POST /customers/{id}/accounts (reseller, own)', 1, () =>
      bench.call('POST', accountsOf(owned.json.id), { number: '+4930998000002' }, asReseller),
    ),
    await measureRoundTrips(
      counter,
      'POST /customers/{id}/accounts (admin, reseller’s customer)',
      2,
      () => bench.call('POST', accountsOf(owned.json.id), { number: '+4930998000003' }),
    ),
    await measureRoundTrips(counter, 'POST /accounts/{number}/aliases', 3, () =>
      bench.call('POST', `/accounts/${encodeURIComponent('+4930998000001')}/aliases`, {
        number: '+4930998000004',
      }),
    ),
  ];
  printTable('DynamoDB round trips per line registration (sequential vs minimum)', rows);
  return rows;
}

/**
 * The switch-facing calls: round trips per call against the minimum (1), and POST
 * /sip/authorize throughput through the local server against raw GetItem on the same
 * engine at the same concurrency. The line registrations' round trips first.
 */
export async function benchSwitch(bench: BenchRuntime) {
  const registrations = await benchRegistrations(bench);
  const customer = await bench.call('POST', '/customers', {
    name: 'Switch',
    businessModel: 'universal',
    currency: 'EUR',
  });
  const account = '+4930999000001';
  const alias = '+4930999000002';
  await bench.call('POST', `/customers/${customer.json.id}/accounts`, { number: account });
  await bench.call('POST', `/accounts/${encodeURIComponent(account)}/aliases`, {
    number: alias,
    authentication: 'system',
  });
  const switchToken = await signLocalToken(bench.jwtSecret, { role: 'switch' });
  const asSwitch = { authorization: `Bearer ${switchToken}` };
  const counter = countRoundTrips(sharedDb().client);
  // Warm the system configuration cache, as a running switch keeps it warm.
  await bench.call('POST', '/sip/authorize', { username: alias }, asSwitch);
  const rows = [
    await measureRoundTrips(counter, 'POST /sip/authorize (alias)', 1, () =>
      bench.call('POST', '/sip/authorize', { username: alias }, asSwitch),
    ),
    await measureRoundTrips(counter, 'POST /sip/authorize (account)', 1, () =>
      bench.call('POST', '/sip/authorize', { username: account }, asSwitch),
    ),
    await measureRoundTrips(counter, 'GET /routing/{number} (alias)', 1, () =>
      bench.call('GET', `/routing/${encodeURIComponent(alias)}`, undefined, asSwitch),
    ),
  ];
  printTable('DynamoDB round trips per switch-facing call (sequential vs minimum)', rows);

  const { runtime } = bench;
  await rawGetItemRate(runtime.dynamodbEndpoint, runtime.tableName, alias);
  const raw = await rawGetItemRate(runtime.dynamodbEndpoint, runtime.tableName, alias);
  const http = await autocannon({
    url: `${runtime.url}/sip/authorize`,
    method: 'POST',
    connections: concurrency,
    duration: seconds,
    headers: { ...asSwitch, 'content-type': 'application/json' },
    body: JSON.stringify({ username: alias }),
  });
  const row = {
    concurrency,
    seconds,
    'raw GetItem req/s': raw.toFixed(0),
    'POST /sip/authorize req/s': http.requests.average.toFixed(0),
    non2xx: http.non2xx,
    ratio: ratio(http.requests.average, raw).toFixed(2),
  };
  printTable('POST /sip/authorize throughput vs raw GetItem on the same engine', [row]);
  return { registrations, rows, throughput: row };
}
