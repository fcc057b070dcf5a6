/**
 * The one way to write DynamoDB condition, update and key-condition expressions:
 * small values (conditions, update specs) compiled into expression strings with
 * generated placeholders, so no caller spells `#name` or `:value` by hand and no two
 * parts of one command can collide on a placeholder.
 *
 * Paths are attribute names, or dotted paths into maps (`additionalInfo.officeHierarchy.office`).
 */
export type Path = string;

export type Condition =
  | {
      readonly op: 'compare';
      readonly path: Path;
      readonly comparator: Comparator;
      readonly value: unknown;
    }
  | { readonly op: 'exists' | 'notExists'; readonly path: Path }
  | { readonly op: 'contains'; readonly path: Path; readonly value: unknown }
  | { readonly op: 'in'; readonly path: Path; readonly values: readonly unknown[] }
  | { readonly op: 'and' | 'or'; readonly conditions: readonly Condition[] }
  | { readonly op: 'not'; readonly condition: Condition };

type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';

const compare =
  (comparator: Comparator) =>
  (path: Path, value: unknown): Condition => ({ op: 'compare', path, comparator, value });

export const eq = compare('=');
export const ne = compare('<>');
export const lt = compare('<');
export const gte = compare('>=');
export const exists = (path: Path): Condition => ({ op: 'exists', path });
export const notExists = (path: Path): Condition => ({ op: 'notExists', path });
export const contains = (path: Path, value: unknown): Condition => ({
  op: 'contains',
  path,
  value,
});
export const oneOf = (path: Path, values: readonly unknown[]): Condition => ({
  op: 'in',
  path,
  values,
});
export const not = (condition: Condition): Condition => ({ op: 'not', condition });
/** All of the conditions; `undefined` entries (a guard that does not apply) are skipped. */
export const and = (...conditions: (Condition | undefined)[]): Condition => ({
  op: 'and',
  conditions: conditions.filter((condition): condition is Condition => condition !== undefined),
});
export const or = (...conditions: Condition[]): Condition => ({ op: 'or', conditions });

/** `SET path = if_not_exists(path, start) + by`: a counter that may not exist yet. */
export interface Increment {
  readonly increment: number;
  readonly start: number;
}
export const increment = (by: number, start = 0): Increment => ({ increment: by, start });
const isIncrement = (value: unknown): value is Increment =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  !(value instanceof Set) &&
  Object.keys(value).length === 2 &&
  typeof (value as Increment).increment === 'number' &&
  typeof (value as Increment).start === 'number';

/** `SET path = other`: the value of another attribute of the same item, as it was before the update. */
export class CopyOf {
  constructor(readonly path: Path) {}
}
export const copyOf = (path: Path): CopyOf => new CopyOf(path);

export interface UpdateSpec {
  /** Attributes set to a value, incremented from a start (`increment`), or copied (`copyOf`). */
  readonly set?: Readonly<Record<Path, unknown>>;
  /** Numbers added to (a BigInt for integers past 2^53), or string sets added into. */
  readonly add?: Readonly<Record<Path, number | bigint | ReadonlySet<string>>>;
  /** Elements deleted from string sets. */
  readonly delete?: Readonly<Record<Path, ReadonlySet<string>>>;
  readonly remove?: readonly Path[];
}

export interface KeyCondition {
  /** The partition key attribute and its value (the table's or an index's). */
  readonly partition: readonly [attribute: string, value: string];
  readonly sort?:
    | { readonly attribute: string; readonly beginsWith: string }
    | { readonly attribute: string; readonly between: readonly [string, string] };
}

export interface CompiledExpressions {
  ConditionExpression?: string;
  UpdateExpression?: string;
  KeyConditionExpression?: string;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

/** An AND or OR of more than one condition: the only kind that needs parentheses inside another. */
const isComposite = (condition: Condition): boolean =>
  (condition.op === 'and' || condition.op === 'or') &&
  (condition.conditions.length > 1 ||
    (condition.conditions[0] !== undefined && isComposite(condition.conditions[0])));

/** Collects placeholders for one command: each attribute name once, each value once per use. */
class Placeholders {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private readonly nameOf = new Map<string, string>();
  private valueCount = 0;

  path(path: Path): string {
    return path
      .split('.')
      .map((segment) => {
        let placeholder = this.nameOf.get(segment);
        if (!placeholder) {
          placeholder = `#n${this.nameOf.size}`;
          this.nameOf.set(segment, placeholder);
          this.names[placeholder] = segment;
        }
        return placeholder;
      })
      .join('.');
  }

  value(value: unknown): string {
    const placeholder = `:v${this.valueCount++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  condition(condition: Condition): string {
    switch (condition.op) {
      case 'compare':
        return `${this.path(condition.path)} ${condition.comparator} ${this.value(condition.value)}`;
      case 'exists':
        return `attribute_exists(${this.path(condition.path)})`;
      case 'notExists':
        return `attribute_not_exists(${this.path(condition.path)})`;
      case 'contains':
        return `contains(${this.path(condition.path)}, ${this.value(condition.value)})`;
      case 'in':
        return `${this.path(condition.path)} IN (${condition.values.map((value) => this.value(value)).join(', ')})`;
      case 'not':
        return `NOT (${this.condition(condition.condition)})`;
      case 'and':
      case 'or': {
        const [only, ...others] = condition.conditions;
        if (!only) throw new Error(`An empty ${condition.op} condition`);
        // DynamoDB refuses redundant parentheses, so only a nested AND/OR gets them.
        if (others.length === 0) return this.condition(only);
        return condition.conditions
          .map((inner) =>
            isComposite(inner) ? `(${this.condition(inner)})` : this.condition(inner),
          )
          .join(condition.op === 'and' ? ' AND ' : ' OR ');
      }
    }
  }

  update(spec: UpdateSpec): string {
    const clauses: string[] = [];
    const sets = Object.entries(spec.set ?? {}).map(([path, value]) => {
      const name = this.path(path);
      if (value instanceof CopyOf) return `${name} = ${this.path(value.path)}`;
      return isIncrement(value)
        ? `${name} = if_not_exists(${name}, ${this.value(value.start)}) + ${this.value(value.increment)}`
        : `${name} = ${this.value(value)}`;
    });
    if (sets.length > 0) clauses.push(`SET ${sets.join(', ')}`);
    const adds = Object.entries(spec.add ?? {}).map(
      ([path, value]) => `${this.path(path)} ${this.value(value)}`,
    );
    if (adds.length > 0) clauses.push(`ADD ${adds.join(', ')}`);
    const deletes = Object.entries(spec.delete ?? {}).map(
      ([path, value]) => `${this.path(path)} ${this.value(value)}`,
    );
    if (deletes.length > 0) clauses.push(`DELETE ${deletes.join(', ')}`);
    const removes = (spec.remove ?? []).map((path) => this.path(path));
    if (removes.length > 0) clauses.push(`REMOVE ${removes.join(', ')}`);
    if (clauses.length === 0) throw new Error('An update that changes nothing');
    return clauses.join(' ');
  }

  keyCondition(key: KeyCondition): string {
    const [attribute, value] = key.partition;
    const partition = `${this.path(attribute)} = ${this.value(value)}`;
    if (!key.sort) return partition;
    const sortName = this.path(key.sort.attribute);
    return 'beginsWith' in key.sort
      ? `${partition} AND begins_with(${sortName}, ${this.value(key.sort.beginsWith)})`
      : `${partition} AND ${sortName} BETWEEN ${this.value(key.sort.between[0])} AND ${this.value(key.sort.between[1])}`;
  }
}

/**
 * Compiles the parts of one command. DynamoDB refuses empty name or value maps, so
 * they are left out when nothing needs them.
 */
export function compileExpressions(parts: {
  readonly condition?: Condition;
  readonly update?: UpdateSpec;
  readonly keyCondition?: KeyCondition;
  readonly projection?: readonly Path[];
}): CompiledExpressions {
  const placeholders = new Placeholders();
  const compiled: CompiledExpressions = {};
  if (parts.keyCondition)
    compiled.KeyConditionExpression = placeholders.keyCondition(parts.keyCondition);
  if (parts.update) compiled.UpdateExpression = placeholders.update(parts.update);
  if (parts.condition) compiled.ConditionExpression = placeholders.condition(parts.condition);
  if (parts.projection)
    compiled.ProjectionExpression = parts.projection
      .map((path) => placeholders.path(path))
      .join(', ');
  if (Object.keys(placeholders.names).length > 0)
    compiled.ExpressionAttributeNames = placeholders.names;
  if (Object.keys(placeholders.values).length > 0)
    compiled.ExpressionAttributeValues = placeholders.values;
  return compiled;
}
