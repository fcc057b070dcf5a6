import { benchBilling } from './billing.js';
import { benchBundles } from './bundles.js';
import { benchCascade } from './cascade.js';
import { benchDids } from './dids.js';
import { benchPanel } from './panel.js';
import { benchPbx } from './pbx.js';
import { benchRoundTrips } from './round-trips.js';
import { type BenchRuntime, startBenchRuntime } from './support.js';
import { benchSwitch } from './switch.js';
import { benchThroughput } from './throughput.js';

/** `npm run bench`: prints figures and ratios; nothing here asserts a speed. */
const only = new Set(process.argv.slice(2));
const wanted = (name: string) => only.size === 0 || only.has(name);

if (wanted('bundles')) await benchBundles();
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
];
for (const [name, run] of runtimeBenches) {
  if (!wanted(name)) continue;
  const bench = await startBenchRuntime();
  try {
    await run(bench);
  } finally {
    await bench.runtime.stop();
  }
}
