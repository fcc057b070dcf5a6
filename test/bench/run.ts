import { benchBilling } from './billing.js';
import { benchBundles } from './bundles.js';
import { benchCascade } from './cascade.js';
import { benchDids } from './dids.js';
import { benchLoad } from './load.js';
import { benchPanel } from './panel.js';
import { benchPbx } from './pbx.js';
import { type BenchResult, describeMachine, recordResults, takeTables } from './report.js';
import { benchRoundTrips } from './round-trips.js';
import { type BenchRuntime, startBenchRuntime } from './support.js';
import { benchSwitch } from './switch.js';
import { benchThroughput } from './throughput.js';

/**
 * `npm run bench [names…]`: runs every benchmark (or the ones named), prints figures and
 * ratios, and records them (test/bench/report.ts). Nothing here asserts a speed.
 */
const only = new Set(process.argv.slice(2));
const wanted = (name: string) => only.size === 0 || only.has(name);
const machine = describeMachine();
const results: Record<string, BenchResult> = {};
const record = (name: string) => {
  results[name] = { date: new Date().toISOString(), machine, tables: takeTables() };
};

if (wanted('bundles')) {
  await benchBundles();
  record('bundles');
}
/** Each benchmark gets its own engine and table: moto's costs grow with the table's size. */
const runtimeBenches: [string, (bench: BenchRuntime) => Promise<unknown>][] = [
  ['round-trips', benchRoundTrips],
  ['panel', benchPanel],
  ['pbx', benchPbx],
  ['dids', benchDids],
  ['billing', benchBilling],
  ['switch', benchSwitch],
  ['cascade', benchCascade],
  ['throughput', benchThroughput],
  ['load', benchLoad],
];
for (const [name, run] of runtimeBenches) {
  if (!wanted(name)) continue;
  const bench = await startBenchRuntime();
  try {
    await run(bench);
    record(name);
  } finally {
    await bench.runtime.stop();
  }
}
await recordResults(results);
