import { sharedDb } from '../../lib/data/client.js';
import { printTable } from './report.js';
import { type BenchRuntime, countRoundTrips, measureRoundTrips } from './support.js';

/**
 * Sequential DynamoDB round trips on each operation's critical path, beside the
 * minimum its semantics allow. Counted with an SDK middleware on the client the
 * handlers use.
 */
export async function benchRoundTrips(bench: BenchRuntime) {
  const counter = countRoundTrips(sharedDb().client);
  const measure = (operation: string, minimum: number, act: () => Promise<{ status: number }>) =>
    measureRoundTrips(counter, operation, minimum, act);
  let id = '';
  const rows = [
    await measure('POST /customers', 1, async () => {
      const answer = await bench.call('POST', '/customers', {
        name: 'Bench',
        businessModel: 'universal',
        currency: 'EUR',
      });
      id = answer.json.id;
      return answer;
    }),
    await measure('GET /customers/{id}', 1, () => bench.call('GET', `/customers/${id}`)),
    await measure('PATCH /customers/{id}', 1, () =>
      bench.call('PATCH', `/customers/${id}`, { name: 'Renamed' }),
    ),
    await measure('GET /customers (one page)', 1, () => bench.call('GET', '/customers?limit=25')),
    await measure('POST /customers with Idempotency-Key', 3, () =>
      bench.call(
        'POST',
        '/customers',
        { name: 'Keyed', businessModel: 'universal', currency: 'EUR' },
        { 'idempotency-key': 'bench-1' },
      ),
    ),
    await measure('POST /customers replayed (same key)', 1, () =>
      bench.call(
        'POST',
        '/customers',
        { name: 'Keyed', businessModel: 'universal', currency: 'EUR' },
        { 'idempotency-key': 'bench-1' },
      ),
    ),
    await measure('POST /customers/{id}/terminate', 1, () =>
      bench.call('POST', `/customers/${id}/terminate`),
    ),
  ];
  printTable('DynamoDB round trips per customer operation (sequential vs minimum)', rows);
  return rows;
}
