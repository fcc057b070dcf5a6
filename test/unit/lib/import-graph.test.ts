import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every module under lib/ with the lib/ modules it imports (type-only imports included). */
function importGraph(root: string): Map<string, string[]> {
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(root, file));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    const targets = [...source.matchAll(/from '(\.[^']+)\.js'/g)].map((match) =>
      resolve(dirname(file), `${match[1]}.ts`),
    );
    graph.set(file, targets);
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (file: string) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      found.push([...path.slice(path.indexOf(file)), file]);
      return;
    }
    state.set(file, 'visiting');
    path.push(file);
    for (const target of graph.get(file) ?? []) visit(target);
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file);
  return found;
}

const lib = resolve(import.meta.dirname, '../../../lib');
const graph = importGraph(lib);
const name = (file: string) => relative(lib, file);

describe('the module graph of lib/', () => {
  it('has no import cycle', () => {
    expect(cycles(graph).map((cycle) => cycle.map(name).join(' → '))).toEqual([]);
  });

  it('keeps the domain and the data layer free of HTTP', () => {
    const offending = [...graph]
      .filter(([file]) => /^(domain|data)\//.test(name(file)))
      .flatMap(([file, targets]) =>
        targets.filter((target) => name(target).startsWith('http/')).map(() => name(file)),
      );
    expect(offending).toEqual([]);
  });

  it('sends DynamoDB commands only from the data layer', () => {
    const offending = [...graph.keys()]
      .filter((file) => !name(file).startsWith('data/'))
      .filter((file) =>
        /from '@aws-sdk\/(lib-dynamodb|client-dynamodb)'/.test(readFileSync(file, 'utf8')),
      )
      .map(name);
    expect(offending).toEqual([]);
  });
});
