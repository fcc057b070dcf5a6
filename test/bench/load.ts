import { signLocalToken } from '../../infra/local/jwt.js';
import { invariantViolations } from '../load/invariants.js';
import { routeRows, runLoad } from '../load/run.js';
import { printTable } from './report.js';
import type { BenchRuntime } from './support.js';

const seconds = Number(process.env.BENCH_LOAD_SECONDS ?? 30);
const concurrency = Number(process.env.BENCH_LOAD_CONCURRENCY ?? 16);

/**
 * The load with invariants (test/load): mixed traffic for a bounded time, then every
 * invariant checked on the table. Requests per second and p50/p99 per route, and the
 * violations, which must be zero.
 */
export async function benchLoad(bench: BenchRuntime) {
  const signed = (claims: Record<string, string>) => signLocalToken(bench.jwtSecret, claims);
  const tokens = {
    admin: bench.adminToken,
    switch: await signed({ role: 'switch' }),
    reseller: (resellerId: string) => signed({ role: 'reseller', resellerId }),
  };
  const report = await runLoad({ url: bench.runtime.url, tokens, seconds, concurrency });
  await bench.runtime.streamsIdle();
  const violations = await invariantViolations(bench.runtime, tokens);
  for (const violation of violations) console.log(`violation: ${violation}`);
  printTable(`Load with invariants: ${concurrency} workers for ${report.seconds.toFixed(0)} s`, [
    ...routeRows(report),
    {
      route: 'all routes',
      requests: report.requests,
      'p50 ms': '',
      'p99 ms': '',
      statuses: `${report.requestsPerSecond.toFixed(1)} requests/s; 5xx ${report.serverErrors.length}; violations ${violations.length}`,
    },
  ]);
  return { report, violations };
}
