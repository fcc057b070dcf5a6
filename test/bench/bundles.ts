import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { lambdaEsbuildOptions } from '../../infra/constructs/bundling.js';
import { routeList } from '../../lib/http/routes.js';
import { streamConsumers } from '../../lib/streams/consumers.js';
import { printTable, ratio } from './report.js';

const outDir = '.local/bench-bundles';
const importRuns = Number(process.env.BENCH_IMPORT_RUNS ?? 7);

async function bundle(name: string, entry: string): Promise<string> {
  const outfile = join(outDir, `${name}.mjs`);
  await build({
    ...lambdaEsbuildOptions,
    entryPoints: [entry],
    outfile,
    sourcemap: false,
    logLevel: 'error',
  });
  return outfile;
}

/** Median cold import time in a fresh Node process, the part of a cold start the code controls. */
function importMillis(file: string): number {
  const samples = Array.from({ length: importRuns }, () => {
    const output = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const t=performance.now();await import(${JSON.stringify(`${process.cwd()}/${file}`)});console.log(performance.now()-t)`,
      ],
      { encoding: 'utf8', env: { ...process.env, TABLE_NAME: 'bench', AWS_REGION: 'eu-west-1' } },
    );
    return Number(output.trim());
  });
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

/**
 * Each Lambda bundle's size and import time against a bundle holding only the
 * DynamoDB document client (aim ≤ 1.3): what the code adds beyond the SDK it must carry.
 */
export async function benchBundles() {
  mkdirSync(outDir, { recursive: true });
  const baselineEntry = join(outDir, 'baseline-entry.mjs');
  writeFileSync(
    baselineEntry,
    [
      "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
      "import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
      'export const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));',
    ].join('\n'),
  );
  const baseline = await bundle('baseline', baselineEntry);
  const baselineBytes = statSync(baseline).size;
  const baselineImport = importMillis(baseline);
  const functions = [
    ...routeList.map((route) => ({ name: route.operationId, entry: route.entry })),
    ...streamConsumers.map((consumer) => ({ name: consumer.name, entry: consumer.entry })),
  ];
  const rows = [
    {
      function: 'baseline (document client only)',
      kib: (baselineBytes / 1024).toFixed(0),
      sizeRatio: '1.00',
      importMs: baselineImport.toFixed(1),
      importRatio: '1.00',
    },
  ];
  for (const { name, entry } of functions) {
    const file = await bundle(name, entry);
    const bytes = statSync(file).size;
    const millis = importMillis(file);
    rows.push({
      function: name,
      kib: (bytes / 1024).toFixed(0),
      sizeRatio: ratio(bytes, baselineBytes).toFixed(2),
      importMs: millis.toFixed(1),
      importRatio: ratio(millis, baselineImport).toFixed(2),
    });
  }
  printTable('Lambda bundles vs a document-client-only bundle (aim <= 1.3)', rows);
  return rows;
}
