/**
 * Lambda event filtering (the FilterCriteria pattern syntax, shared with
 * EventBridge) for the local stream poller, so a consumer's `filterPatterns`
 * drop the same records locally as they do in the cloud.
 *
 * Matching follows EventBridge: every field named by a pattern must match (AND),
 * the rules listed for one field are alternatives (OR), arrays in the record are
 * flattened (a rule matches when any element matches), and rules only ever see
 * leaf values. The last point matters for DynamoDB records, whose values are
 * wrapped in type descriptors: `{ exists: true }` must name the descriptor
 * (`{ status: { S: [{ exists: true }] } }`), and numbers are strings
 * (`{ N: '5' }`), so a `numeric` rule never matches an attribute value; both
 * behave so in Lambda too.
 */

export class InvalidFilterPatternError extends Error {
  override name = 'InvalidFilterPatternError';
}

type Leaf = string | number | boolean | null;
type LeafRule = (leaves: readonly Leaf[]) => boolean;
type NodeMatcher = (nodes: readonly unknown[]) => boolean;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isLeaf = (value: unknown): value is Leaf =>
  value === null || ['string', 'number', 'boolean'].includes(typeof value);

const flatten = (values: readonly unknown[]): unknown[] =>
  values.flatMap((value) => (Array.isArray(value) ? flatten(value) : [value]));

/** The values found under `key` in any of the nodes, arrays being looked through. */
const descend = (nodes: readonly unknown[], key: string): unknown[] =>
  flatten(nodes).flatMap((node) =>
    isPlainObject(node) && Object.hasOwn(node, key) ? [node[key]] : [],
  );

const leavesOf = (values: readonly unknown[]): Leaf[] => flatten(values).filter(isLeaf);

const numericComparisons: Record<string, (value: number, bound: number) => boolean> = {
  '=': (value, bound) => value === bound,
  '<': (value, bound) => value < bound,
  '<=': (value, bound) => value <= bound,
  '>': (value, bound) => value > bound,
  '>=': (value, bound) => value >= bound,
};

function compileNumeric(conditions: unknown, path: string): LeafRule {
  const invalid = () =>
    new InvalidFilterPatternError(
      `${path}: numeric takes one or two [operator, number] pairs, got ${JSON.stringify(conditions)}`,
    );
  if (!Array.isArray(conditions) || (conditions.length !== 2 && conditions.length !== 4)) {
    throw invalid();
  }
  const checks: ((value: number) => boolean)[] = [];
  for (let index = 0; index < conditions.length; index += 2) {
    const operator: unknown = conditions[index];
    const bound: unknown = conditions[index + 1];
    const compare = typeof operator === 'string' ? numericComparisons[operator] : undefined;
    if (!compare || typeof bound !== 'number') throw invalid();
    checks.push((value) => compare(value, bound));
  }
  return (leaves) =>
    leaves.some((leaf) => typeof leaf === 'number' && checks.every((check) => check(leaf)));
}

function compileAnythingBut(excluded: unknown, path: string): LeafRule {
  if (isPlainObject(excluded)) {
    const prefix = excluded.prefix;
    if (Object.keys(excluded).length !== 1 || typeof prefix !== 'string') {
      throw new InvalidFilterPatternError(
        `${path}: anything-but takes a value, a list of values or { prefix }, got ${JSON.stringify(excluded)}`,
      );
    }
    return (leaves) => leaves.some((leaf) => typeof leaf !== 'string' || !leaf.startsWith(prefix));
  }
  const values: unknown[] = Array.isArray(excluded) ? excluded : [excluded];
  if (
    values.length === 0 ||
    !values.every((value) => typeof value === 'string' || typeof value === 'number')
  ) {
    throw new InvalidFilterPatternError(
      `${path}: anything-but takes strings or numbers, got ${JSON.stringify(excluded)}`,
    );
  }
  const excludedValues = new Set<unknown>(values);
  return (leaves) => leaves.some((leaf) => !excludedValues.has(leaf));
}

function compileRule(rule: unknown, path: string): LeafRule {
  if (isLeaf(rule)) return (leaves) => leaves.includes(rule);
  if (!isPlainObject(rule) || Object.keys(rule).length !== 1) {
    throw new InvalidFilterPatternError(`${path}: unsupported rule ${JSON.stringify(rule)}`);
  }
  const [operator, operand] = Object.entries(rule)[0] as [string, unknown];
  switch (operator) {
    case 'exists':
      if (typeof operand !== 'boolean') break;
      return (leaves) => leaves.length > 0 === operand;
    case 'prefix':
      if (typeof operand !== 'string') break;
      return (leaves) =>
        leaves.some((leaf) => typeof leaf === 'string' && leaf.startsWith(operand));
    case 'anything-but':
      return compileAnythingBut(operand, path);
    case 'numeric':
      return compileNumeric(operand, path);
  }
  throw new InvalidFilterPatternError(`${path}: unsupported rule ${JSON.stringify(rule)}`);
}

function compileRules(rules: readonly unknown[], path: string): NodeMatcher {
  if (rules.length === 0) {
    throw new InvalidFilterPatternError(`${path}: an empty list of rules matches nothing`);
  }
  const compiled = rules.map((rule) => compileRule(rule, path));
  return (values) => {
    const leaves = leavesOf(values);
    return compiled.some((rule) => rule(leaves));
  };
}

function compileObject(pattern: Record<string, unknown>, path: string): NodeMatcher {
  const fields = Object.entries(pattern).map(([key, value]): NodeMatcher => {
    const fieldPath = path ? `${path}.${key}` : key;
    let matchValues: NodeMatcher;
    if (Array.isArray(value)) matchValues = compileRules(value, fieldPath);
    else if (isPlainObject(value)) matchValues = compileObject(value, fieldPath);
    else {
      throw new InvalidFilterPatternError(
        `${fieldPath}: expected a list of rules or a nested pattern, got ${JSON.stringify(value)}`,
      );
    }
    return (nodes) => matchValues(descend(nodes, key));
  });
  return (nodes) => fields.every((field) => field(nodes));
}

/**
 * Validates the patterns once and returns the predicate the poller applies to
 * each record (as Lambda delivers it). A record passes when any pattern
 * matches; with no patterns every record passes, as with no FilterCriteria.
 */
export function compileEventFilter(
  patterns: readonly Record<string, unknown>[],
): (record: unknown) => boolean {
  if (patterns.length === 0) return () => true;
  const matchers = patterns.map((pattern, index) => {
    if (!isPlainObject(pattern)) {
      throw new InvalidFilterPatternError(`pattern ${index} is not an object`);
    }
    return compileObject(pattern, '');
  });
  return (record) => matchers.some((matches) => matches([record]));
}
