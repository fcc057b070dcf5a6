export const ratio = (value: number, reference: number) =>
  reference === 0 ? Number.NaN : value / reference;

export function printTable(title: string, rows: Record<string, string | number>[]): void {
  console.log(`\n## ${title}`);
  console.table(rows);
}
