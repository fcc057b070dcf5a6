import { benchBundles } from './bundles.js';
import { benchCascade } from './cascade.js';
import { benchPanel } from './panel.js';
import { benchPbx } from './pbx.js';
import { benchRoundTrips } from './round-trips.js';
import { startBenchRuntime } from './support.js';
import { benchSwitch } from './switch.js';
import { benchThroughput } from './throughput.js';

/** `npm run bench`: prints figures and ratios; nothing here asserts a speed. */
const only = new Set(process.argv.slice(2));
const wanted = (name: string) => only.size === 0 || only.has(name);

if (wanted('bundles')) await benchBundles();
const runtimeBenches = ['round-trips', 'panel', 'pbx', 'switch', 'cascade', 'throughput'];
if (runtimeBenches.some(wanted)) {
  const bench = await startBenchRuntime();
  try {
    if (wanted('round-trips')) await benchRoundTrips(bench);
    if (wanted('panel')) await benchPanel(bench);
    if (wanted('pbx')) await benchPbx(bench);
    if (wanted('switch')) await benchSwitch(bench);
    if (wanted('cascade')) await benchCascade(bench);
    if (wanted('throughput')) await benchThroughput(bench);
  } finally {
    await bench.runtime.stop();
  }
}
