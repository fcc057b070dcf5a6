import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { openApiDocument } from '../../lib/http/openapi.js';

/**
 * `npm run lint:openapi` (part of `npm test`): the document the server serves, linted
 * with Redocly's recommended rules (redocly.yaml). Redocly fails only on errors; here a
 * warning fails too, unless .redocly.lint-ignore.yaml accepts it with its reason.
 */
const target = '.local/openapi.json';
await mkdir('.local', { recursive: true });
await writeFile(target, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
const run = promisify(execFile);
const { stdout } = await run('npx', ['redocly', 'lint', target, '--format=json'], {
  maxBuffer: 64 * 1024 * 1024,
  // No network here: no telemetry, no update check.
  env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
}).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
const report = JSON.parse(stdout) as {
  totals: { errors: number; warnings: number; ignored: number };
  problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
};
for (const problem of report.problems) {
  console.error(`${problem.ruleId}: ${problem.message} at ${problem.location[0]?.pointer ?? ''}`);
}
const { errors, warnings, ignored } = report.totals;
console.log(`OpenAPI lint: ${errors} errors, ${warnings} warnings, ${ignored} accepted`);
if (errors + warnings > 0) process.exit(1);
