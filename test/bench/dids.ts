import { sharedDb } from '../../lib/data/client.js';
import { printTable } from './report.js';
import { type BenchRuntime, countRoundTrips, measureRoundTrips } from './support.js';

/** Round trips of the DID batch and inventory routes against their minimum. */
export async function benchDids(bench: BenchRuntime) {
  const counter = countRoundTrips(sharedDb().client);
  const pricing = {
    free: false,
    currency: 'EUR',
    activationFee: '1.00',
    recurringFee: '0.50',
    markupPercent: '10',
    roundingDecimals: 2,
  };
  const numbers = Array.from({ length: 10 }, (_, index) => ({
    number: `+4930900000${index}`,
    kind: 'local',
    country: 'DE',
    area: '30',
    activationCost: '1.50',
    recurringCost: '0.99',
  }));
  let batchId = '';
  const customer = (
    await bench.call('POST', '/customers', {
      name: 'DID bench',
      businessModel: 'universal',
      currency: 'EUR',
    })
  ).json.id as string;

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
  ];
  printTable('DynamoDB round trips per DID batch operation (sequential vs minimum)', rows);
  return { rows };
}
