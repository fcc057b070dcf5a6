import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';

export const ratio = (value: number, reference: number) =>
  reference === 0 ? Number.NaN : value / reference;

export interface BenchTable {
  readonly title: string;
  readonly rows: Record<string, string | number>[];
}

/** The tables printed since the last `takeTables()`: what `npm run bench` writes down. */
let printed: BenchTable[] = [];

export function printTable(title: string, rows: Record<string, string | number>[]): void {
  console.log(`\n## ${title}`);
  console.table(rows);
  printed.push({ title, rows });
}

export function takeTables(): BenchTable[] {
  const tables = printed;
  printed = [];
  return tables;
}

/** One benchmark's latest run: when, where, and what it printed. */
export interface BenchResult {
  readonly date: string;
  readonly machine: string;
  readonly tables: BenchTable[];
}

export function describeMachine(): string {
  const cpus = os.cpus();
  let moto = 'moto ?';
  try {
    moto = `moto ${execFileSync('python3', ['-c', 'import moto; print(moto.__version__)'], { encoding: 'utf8' }).trim()}`;
  } catch {
    // The figure stands without it; the engine's version is only context.
  }
  return [
    `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}`,
    `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    `${os.type()} ${os.release()}`,
    `Node ${process.version}`,
    moto,
  ].join(', ');
}

const resultsFile = 'test/bench/latest-results.json';
const readmeFile = 'README.md';
const startMarker = '<!-- bench-results:start -->';
const endMarker = '<!-- bench-results:end -->';

const cell = (value: string | number | undefined) =>
  String(value ?? '')
    .replaceAll('|', '\\|')
    .replaceAll('\n', ' ');

function markdownTable({ title, rows }: BenchTable): string {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  return [
    `**${title}**`,
    '',
    `| ${columns.map(cell).join(' | ')} |`,
    `|${columns.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${columns.map((column) => cell(row[column])).join(' | ')} |`),
  ].join('\n');
}

function markdownResults(results: Record<string, BenchResult>): string {
  return Object.entries(results)
    .map(([name, result]) =>
      [
        `#### \`${name}\` — ${result.date.slice(0, 10)}, ${result.machine}`,
        '',
        ...result.tables.map(markdownTable).flatMap((table) => [table, '']),
      ].join('\n'),
    )
    .join('\n');
}

/**
 * Keeps each benchmark's latest run in `test/bench/latest-results.json` (a partial run
 * replaces only its own benchmarks) and rewrites the README's table of them, between
 * its markers.
 */
export async function recordResults(latest: Record<string, BenchResult>): Promise<void> {
  const stored: Record<string, BenchResult> = JSON.parse(
    await readFile(resultsFile, 'utf8').catch(() => '{}'),
  );
  const results = { ...stored, ...latest };
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  const readme = await readFile(readmeFile, 'utf8');
  const start = readme.indexOf(startMarker);
  const end = readme.indexOf(endMarker);
  if (start < 0 || end < start)
    throw new Error(`${readmeFile} has no ${startMarker} … ${endMarker}`);
  await writeFile(
    readmeFile,
    `${readme.slice(0, start + startMarker.length)}\n${markdownResults(results)}\n${readme.slice(end)}`,
  );
  console.log(`\nWrote ${resultsFile} and the table in ${readmeFile}.`);
}
