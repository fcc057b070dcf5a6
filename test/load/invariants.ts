import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalRuntime } from '../../infra/local/runtime.js';
import { boundedAll } from '../../lib/concurrency.js';
import { type Charge, charges } from '../../lib/data/charge.js';
import {
  type CustomerRecord,
  mainOfficeOf,
  numberGroupOf,
  parseCustomerRecord,
} from '../../lib/data/customer.js';
import { type CustomerDid, customerDids } from '../../lib/data/customer-did.js';
import { type DidBatchRecord, didBatches } from '../../lib/data/did-batch.js';
import { type DidNumber, didNumbers } from '../../lib/data/did-number.js';
import {
  type ConsolidationPart,
  consolidationParts,
  type InvoiceRecord,
  invoices,
  kindTotalAttribute,
} from '../../lib/data/invoice.js';
import { entityTypes } from '../../lib/data/keys.js';
import { type NumberRegistry, numberRegistries } from '../../lib/data/number-registry.js';
import { type PbxItem, pbxItems } from '../../lib/data/pbx-item.js';
import { type PhoneLine, phoneLines } from '../../lib/data/phone-line.js';
import { formatMicros, microsOf } from '../../lib/domain/billing/amounts.js';
import { compareDecimals, parseDecimal } from '../../lib/domain/dids/money.js';
import { priceOf } from '../../lib/domain/dids/pricing.js';
import { chargeKinds } from '../../lib/schemas/billing.js';
import { hierarchyViolations } from '../integration/support/hierarchy-invariants.js';

/** The tokens the checker's HTTP reads need: the switch-facing calls, and the invoices' consolidated view. */
export interface CheckerTokens {
  readonly admin: string;
  readonly switch: string;
}

type Item = Record<string, unknown>;

/** Every item of the table, strongly consistent, page by page. */
async function scanTable(runtime: LocalRuntime): Promise<Item[]> {
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: runtime.dynamodbEndpoint }),
  );
  const items: Item[] = [];
  let startKey: Item | undefined;
  try {
    do {
      const page = await db.send(
        new ScanCommand({
          TableName: runtime.tableName,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  } finally {
    db.destroy();
  }
  return items;
}

/** The table's items by entity, parsed with each entity's own schema. */
interface World {
  readonly customers: Map<string, CustomerRecord>;
  readonly charges: Charge[];
  readonly invoices: InvoiceRecord[];
  readonly parts: ConsolidationPart[];
  readonly batches: Map<string, DidBatchRecord>;
  readonly didNumbers: Map<string, DidNumber>;
  readonly holdings: CustomerDid[];
  readonly lines: PhoneLine[];
  readonly pbx: { readonly kind: 'extension' | 'huntGroup'; readonly item: PbxItem }[];
  readonly registries: Map<string, NumberRegistry>;
  readonly runningCascades: string[];
}

function readWorld(items: readonly Item[], violations: string[]): World {
  const world: World = {
    customers: new Map(),
    charges: [],
    invoices: [],
    parts: [],
    batches: new Map(),
    didNumbers: new Map(),
    holdings: [],
    lines: [],
    pbx: [],
    registries: new Map(),
    runningCascades: [],
  };
  const readers: Partial<Record<string, (item: Item) => void>> = {
    [entityTypes.customer]: (item) => {
      const record = parseCustomerRecord(item);
      world.customers.set(record.id, record);
    },
    [entityTypes.charge]: (item) => world.charges.push(charges.parse(item)),
    [entityTypes.invoice]: (item) => world.invoices.push(invoices.parse(item)),
    [entityTypes.consolidationPart]: (item) => world.parts.push(consolidationParts.parse(item)),
    [entityTypes.didBatch]: (item) => {
      const batch = didBatches.parse(item);
      world.batches.set(batch.id, batch);
    },
    [entityTypes.didNumber]: (item) => {
      const did = didNumbers.parse(item);
      world.didNumbers.set(did.number, did);
    },
    [entityTypes.customerDid]: (item) => world.holdings.push(customerDids.parse(item)),
    [entityTypes.phoneLine]: (item) => world.lines.push(phoneLines.parse(item)),
    [entityTypes.extension]: (item) =>
      world.pbx.push({ kind: 'extension', item: pbxItems.extension.parse(item) }),
    [entityTypes.huntGroup]: (item) =>
      world.pbx.push({ kind: 'huntGroup', item: pbxItems.huntGroup.parse(item) }),
    [entityTypes.pbxRegistry]: (item) => {
      const registry = numberRegistries.parse(item);
      world.registries.set(registry.customerId, registry);
    },
    [entityTypes.terminationCascade]: (item) => {
      if (item.status !== 'done') world.runningCascades.push(String(item.pk));
    },
  };
  for (const item of items) {
    const read = readers[String(item.entityType)];
    try {
      read?.(item);
    } catch (error) {
      violations.push(
        `${String(item.pk)} ${String(item.sk)}: not a valid ${String(item.entityType)} (${(error as Error).message.slice(0, 200)})`,
      );
    }
  }
  return world;
}

const groupBy = <T>(values: readonly T[], keyOf: (value: T) => string): Map<string, T[]> => {
  const groups = new Map<string, T[]>();
  for (const value of values) {
    const key = keyOf(value);
    const group = groups.get(key);
    if (group) group.push(value);
    else groups.set(key, [value]);
  }
  return groups;
};

const sumMicros = (amounts: readonly bigint[]) => amounts.reduce((sum, micros) => sum + micros, 0n);

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>) =>
  a.size === b.size && [...a].every((value) => b.has(value));

const listed = (values: Iterable<string>) => `[${[...values].sort().join(', ')}]`;

/** §3, §5: a terminated customer says when and why; an active one says neither. */
function customerViolations(world: World, violations: string[]): void {
  for (const customer of world.customers.values()) {
    if (customer.status === 'active') {
      if (customer.terminatedAt !== null || customer.terminatedBy !== null)
        violations.push(`customer ${customer.id}: active with a termination`);
      continue;
    }
    if (customer.terminatedAt === null || customer.terminatedBy === null) {
      violations.push(`customer ${customer.id}: terminated without terminatedAt/terminatedBy`);
      continue;
    }
    if (customer.terminatedBy.reason === 'main_office_terminated') {
      const mainOffice = world.customers.get(customer.terminatedBy.mainOfficeId);
      if (mainOfficeOf(customer) !== customer.terminatedBy.mainOfficeId)
        violations.push(
          `customer ${customer.id}: terminated by ${customer.terminatedBy.mainOfficeId}, which is not its main office`,
        );
      if (mainOffice?.status !== 'terminated')
        violations.push(
          `customer ${customer.id}: terminated by main office ${customer.terminatedBy.mainOfficeId}, which is not terminated`,
        );
    }
  }
  for (const job of world.runningCascades)
    violations.push(`${job}: termination cascade still running after the streams went idle`);
}

/**
 * §6: extension and hunt-group numbers are unique within each group of offices (an HQ
 * and its branches, or a customer alone); each registry holds exactly the numbers its
 * items use; hunt groups ring only extensions their owner can see, and each extension
 * counts the hunt groups that use it.
 */
function pbxViolations(world: World, violations: string[]): void {
  const groupOf = (ownerId: string) => {
    const owner = world.customers.get(ownerId);
    return owner ? numberGroupOf(owner) : undefined;
  };
  const itemsByOwner = groupBy(world.pbx, ({ item }) => item.ownerId);
  const byGroup = new Map<string, Map<string, string[]>>();
  for (const { kind, item } of world.pbx) {
    const group = groupOf(item.ownerId);
    if (group === undefined) {
      violations.push(`${kind} ${item.number}: owner ${item.ownerId} does not exist`);
      continue;
    }
    const numbers = byGroup.get(group) ?? new Map<string, string[]>();
    numbers.set(item.number, [...(numbers.get(item.number) ?? []), `${kind} of ${item.ownerId}`]);
    byGroup.set(group, numbers);
  }
  for (const [group, numbers] of byGroup) {
    for (const [number, users] of numbers) {
      if (users.length > 1)
        violations.push(
          `group of ${group}: number ${number} used ${users.length} times (${users.join(', ')})`,
        );
    }
  }

  for (const customer of world.customers.values()) {
    const registry = world.registries.get(customer.id);
    const own = new Set((itemsByOwner.get(customer.id) ?? []).map(({ item }) => item.number));
    if (!sameSet(registry?.own ?? new Set(), own))
      violations.push(
        `customer ${customer.id}: registry own ${listed(registry?.own ?? [])}, items ${listed(own)}`,
      );
    const isRoot = numberGroupOf(customer) === customer.id;
    const used = new Set(byGroup.get(customer.id)?.keys() ?? []);
    const reserved = registry?.reserved ?? new Set<string>();
    if (isRoot && !sameSet(reserved, used))
      violations.push(
        `group of ${customer.id}: registry reserved ${listed(reserved)}, items ${listed(used)}`,
      );
    if (!isRoot && reserved.size > 0)
      violations.push(
        `branch ${customer.id}: reserves ${listed(reserved)} though not a group's root`,
      );
  }

  const uses = new Map<string, number>();
  const inheritedMembers = new Map<string, number>();
  const extensions = new Set(
    world.pbx
      .filter(({ kind }) => kind === 'extension')
      .map(({ item }) => `${item.ownerId}/${item.number}`),
  );
  for (const { kind, item } of world.pbx) {
    if (kind !== 'huntGroup') continue;
    const owner = world.customers.get(item.ownerId);
    const mainOfficeId = owner ? mainOfficeOf(owner) : null;
    // Its own extensions and, on a branch, its main office's.
    const visibleOwners = new Set(mainOfficeId ? [item.ownerId, mainOfficeId] : [item.ownerId]);
    for (const member of item.members ?? []) {
      const extension = `${member.ownerId}/${member.number}`;
      if (!visibleOwners.has(member.ownerId))
        violations.push(
          `hunt group ${item.number} of ${item.ownerId}: member ${member.number} of ${member.ownerId}, an extension it cannot see`,
        );
      if (!extensions.has(extension))
        violations.push(
          `hunt group ${item.number} of ${item.ownerId}: member ${member.number} of ${member.ownerId} does not exist`,
        );
      uses.set(extension, (uses.get(extension) ?? 0) + 1);
      if (member.ownerId !== item.ownerId)
        inheritedMembers.set(item.ownerId, (inheritedMembers.get(item.ownerId) ?? 0) + 1);
    }
  }
  for (const { kind, item } of world.pbx) {
    if (kind !== 'extension') continue;
    const counted = uses.get(`${item.ownerId}/${item.number}`) ?? 0;
    if ((item.usedBy ?? 0) !== counted)
      violations.push(
        `extension ${item.number} of ${item.ownerId}: usedBy ${item.usedBy ?? 0}, hunt groups using it ${counted}`,
      );
  }
  for (const customer of world.customers.values()) {
    const counted = world.registries.get(customer.id)?.inheritedMembers ?? 0;
    const real = inheritedMembers.get(customer.id) ?? 0;
    if (counted !== real)
      violations.push(
        `customer ${customer.id}: inheritedMembers ${counted}, hunt-group members of its main office ${real}`,
      );
  }
}

/** The E.164 number an activation charge is for: the assignment names it in the description. */
const numberNamedIn = (description: string) => /\+[1-9]\d{7,14}/.exec(description)?.[0];

/**
 * §8: each DID has at most one owner, on both sides (the number's item and the
 * customer's copy); a terminated customer holds none; each holding was priced by its
 * batch and carries exactly its activation charge, and no activation charge exists
 * without the assignment it was for.
 */
function didViolations(world: World, violations: string[]): void {
  const holdersOf = groupBy(world.holdings, (holding) => holding.number);
  for (const [number, holdings] of holdersOf) {
    if (holdings.length > 1)
      violations.push(
        `DID ${number}: held by ${holdings.length} customers (${holdings.map((holding) => holding.customerId).join(', ')})`,
      );
  }
  for (const holding of world.holdings) {
    const did = world.didNumbers.get(holding.number);
    if (did?.status !== 'assigned' || did.customerId !== holding.customerId)
      violations.push(
        `DID ${holding.number}: held by ${holding.customerId} but its item is ${did ? `${did.status} to ${did.customerId}` : 'absent'}`,
      );
    if (world.customers.get(holding.customerId)?.status !== 'active')
      violations.push(
        `DID ${holding.number}: still held by terminated or unknown customer ${holding.customerId}`,
      );
    const batch = world.batches.get(holding.batchId);
    if (!batch)
      violations.push(`DID ${holding.number}: held from unknown batch ${holding.batchId}`);
    else if (did) {
      const price = priceOf(did, batch.pricing, holding.currency);
      const differs = (a: string, b: string) =>
        compareDecimals(parseDecimal(a), parseDecimal(b)) !== 0;
      if (
        differs(price.activationPrice, holding.activationPrice) ||
        differs(price.recurringPrice, holding.recurringPrice)
      )
        violations.push(
          `DID ${holding.number}: held at ${holding.activationPrice}/${holding.recurringPrice}, batch prices ${price.activationPrice}/${price.recurringPrice}`,
        );
    }
  }
  for (const did of world.didNumbers.values()) {
    const holders = holdersOf.get(did.number) ?? [];
    if (
      did.status === 'assigned' &&
      !holders.some((holding) => holding.customerId === did.customerId)
    )
      violations.push(`DID ${did.number}: assigned to ${did.customerId}, who holds no copy of it`);
    if (did.status === 'available' && did.customerId !== null)
      violations.push(`DID ${did.number}: available but names customer ${did.customerId}`);
  }

  const activations = world.charges.filter((charge) => charge.kind === 'did_activation');
  const activationsOf = groupBy(
    activations,
    (charge) => `${charge.customerId}|${numberNamedIn(charge.description)}|${charge.occurredAt}`,
  );
  for (const holding of world.holdings) {
    const found =
      activationsOf.get(`${holding.customerId}|${holding.number}|${holding.assignedAt}`) ?? [];
    const expected = microsOf(holding.activationPrice) === 0n ? 0 : 1;
    if (found.length !== expected)
      violations.push(
        `DID ${holding.number} of ${holding.customerId}: ${found.length} activation charges for its assignment at ${holding.assignedAt}, expected ${expected}`,
      );
    for (const charge of found) {
      if (microsOf(charge.amount) !== microsOf(holding.activationPrice))
        violations.push(
          `DID ${holding.number} of ${holding.customerId}: activation charged ${charge.amount}, price ${holding.activationPrice}`,
        );
    }
  }
  for (const charge of activations) {
    const number = numberNamedIn(charge.description);
    if (number === undefined) {
      violations.push(
        `charge ${charge.id} of ${charge.customerId}: an activation naming no number`,
      );
      continue;
    }
    // A provider number released at the provider is forgotten (its item deleted); its charge stays.
    const did = world.didNumbers.get(number);
    if (!did) continue;
    const heldThen = world.holdings.some(
      (holding) =>
        holding.customerId === charge.customerId &&
        holding.number === number &&
        holding.assignedAt === charge.occurredAt,
    );
    // A released number keeps the activation charge of its earlier assignment (§8).
    const releasedSince =
      did.releasedAt !== null && Date.parse(did.releasedAt) >= Date.parse(charge.occurredAt);
    if (!heldThen && !releasedSince)
      violations.push(
        `charge ${charge.id} of ${charge.customerId}: activation of ${number} at ${charge.occurredAt} without that assignment`,
      );
  }
}

/**
 * §9: every charge is counted exactly once, in its customer's currency; each invoice's
 * totals (overall and by kind) and count are exactly those of the charges counted in
 * it; each branch's consolidated parts hold only what its own invoice counted.
 */
function invoiceViolations(world: World, violations: string[]): void {
  for (const charge of world.charges) {
    const customer = world.customers.get(charge.customerId);
    if (!customer)
      violations.push(`charge ${charge.id}: customer ${charge.customerId} does not exist`);
    else if (customer.currency !== charge.currency)
      violations.push(
        `charge ${charge.id}: in ${charge.currency}, its customer bills in ${customer.currency}`,
      );
    if (charge.countedIn === undefined)
      violations.push(`charge ${charge.id} of ${charge.customerId}: not counted in any invoice`);
  }
  const countedIn = groupBy(
    world.charges.filter((charge) => charge.countedIn !== undefined),
    (charge) => `${charge.customerId}|${charge.countedIn}`,
  );
  const invoiceOf = new Map(
    world.invoices.map((invoice) => [`${invoice.customerId}|${invoice.period}`, invoice]),
  );
  for (const [key, counted] of countedIn) {
    if (!invoiceOf.has(key))
      violations.push(`invoice ${key}: ${counted.length} charges counted in it, no invoice`);
  }
  for (const invoice of world.invoices) {
    const name = `invoice ${invoice.customerId} ${invoice.period}`;
    const counted = countedIn.get(`${invoice.customerId}|${invoice.period}`) ?? [];
    const expected = sumMicros(counted.map((charge) => microsOf(charge.amount)));
    if (invoice.totalMicros !== expected)
      violations.push(
        `${name}: total ${formatMicros(invoice.totalMicros)}, its charges sum to ${formatMicros(expected)}`,
      );
    if (invoice.chargeCount !== counted.length)
      violations.push(
        `${name}: chargeCount ${invoice.chargeCount}, charges counted ${counted.length}`,
      );
    for (const kind of chargeKinds) {
      const attribute = kindTotalAttribute(kind) as keyof InvoiceRecord;
      const byKind = sumMicros(
        counted.filter((charge) => charge.kind === kind).map((charge) => microsOf(charge.amount)),
      );
      if (invoice[attribute] !== byKind)
        violations.push(
          `${name}: ${kind} ${formatMicros(invoice[attribute] as bigint)}, its ${kind} charges sum to ${formatMicros(byKind)}`,
        );
    }
    const customer = world.customers.get(invoice.customerId);
    if (customer && customer.currency !== invoice.currency)
      violations.push(
        `${name}: in ${invoice.currency}, its customer bills in ${customer.currency}`,
      );
  }

  // Which of a branch's charges went to a part is decided when each is counted, so a
  // part is checked against its invoice's charges: it can hold no more of them, and
  // when it holds all of them (by count), exactly their sum.
  for (const [key, parts] of groupBy(world.parts, (part) => `${part.branchId}|${part.period}`)) {
    const [branchId = '', period = ''] = key.split('|');
    const branch = world.customers.get(branchId);
    const invoice = invoiceOf.get(key);
    const counted = countedIn.get(key) ?? [];
    for (const part of parts) {
      const mainOffice = world.customers.get(part.mainOfficeId);
      if (!branch || !mainOffice)
        violations.push(
          `part of ${branchId} in ${part.mainOfficeId} ${period}: branch or main office missing`,
        );
      else if (part.currency !== branch.currency || part.currency !== mainOffice.currency)
        violations.push(
          `part of ${branchId} in ${part.mainOfficeId} ${period}: currency ${part.currency}`,
        );
      if (part.chargeCount < 1)
        violations.push(`part of ${branchId} in ${part.mainOfficeId} ${period}: no charges`);
    }
    const partCount = parts.reduce((sum, part) => sum + part.chargeCount, 0);
    const partTotal = sumMicros(parts.map((part) => part.totalMicros));
    const amounts = counted.map((charge) => microsOf(charge.amount));
    const lowest = sumMicros(amounts.filter((micros) => micros < 0n));
    const highest = sumMicros(amounts.filter((micros) => micros > 0n));
    if (partCount > (invoice?.chargeCount ?? 0))
      violations.push(
        `branch ${branchId} ${period}: its parts count ${partCount} charges, its invoice ${invoice?.chargeCount ?? 0}`,
      );
    else if (partCount === counted.length && partTotal !== (invoice?.totalMicros ?? 0n))
      violations.push(
        `branch ${branchId} ${period}: its parts hold all its charges but total ${formatMicros(partTotal)}, its invoice ${formatMicros(invoice?.totalMicros ?? 0n)}`,
      );
    else if (partTotal < lowest || partTotal > highest)
      violations.push(
        `branch ${branchId} ${period}: its parts total ${formatMicros(partTotal)}, outside what its charges allow`,
      );
  }
  for (const invoice of world.invoices) {
    if (
      invoice.consolidatedInto !== null &&
      !world.parts.some(
        (part) =>
          part.branchId === invoice.customerId &&
          part.period === invoice.period &&
          part.mainOfficeId === invoice.consolidatedInto,
      )
    )
      violations.push(
        `invoice ${invoice.customerId} ${invoice.period}: consolidated into ${invoice.consolidatedInto}, which holds no part of it`,
      );
  }
}

async function getJson(url: string, init: RequestInit): Promise<{ status: number; body: any }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * §9 as a caller sees it: each main office's invoice of a period with parts shows its
 * consolidated total as its own total plus every part, the parts being the table's.
 */
async function consolidatedViewViolations(
  runtime: LocalRuntime,
  tokens: CheckerTokens,
  world: World,
): Promise<string[]> {
  const partsByInvoice = groupBy(world.parts, (part) => `${part.mainOfficeId}|${part.period}`);
  const found = await boundedAll([...partsByInvoice], 8, async ([key, parts]) => {
    const [mainOfficeId = '', period = ''] = key.split('|');
    const name = `consolidated invoice ${mainOfficeId} ${period}`;
    const answer = await getJson(`${runtime.url}/customers/${mainOfficeId}/invoices/${period}`, {
      headers: { authorization: `Bearer ${tokens.admin}` },
    });
    if (answer.status !== 200 || !answer.body?.consolidated)
      return [`${name}: answered ${answer.status} without a consolidated view`];
    const { total, consolidated } = answer.body as {
      total: string;
      consolidated: { total: string; branches: { customerId: string; total: string }[] };
    };
    const problems: string[] = [];
    const own = world.invoices.find(
      (invoice) => invoice.customerId === mainOfficeId && invoice.period === period,
    );
    const ownTotal = own?.totalMicros ?? 0n;
    const partTotal = sumMicros(parts.map((part) => part.totalMicros));
    const shownSum = sumMicros(
      [total, ...consolidated.branches.map((branch) => branch.total)].map(microsOf),
    );
    if (microsOf(consolidated.total) !== shownSum)
      problems.push(
        `${name}: total ${consolidated.total}, its own total and branches sum to ${formatMicros(shownSum)}`,
      );
    if (microsOf(consolidated.total) !== ownTotal + partTotal)
      problems.push(
        `${name}: total ${consolidated.total}, its invoice and parts in the table sum to ${formatMicros(ownTotal + partTotal)}`,
      );
    const shown = new Map(
      consolidated.branches.map((branch) => [branch.customerId, microsOf(branch.total)]),
    );
    for (const part of parts) {
      if (shown.get(part.branchId) !== part.totalMicros)
        problems.push(
          `${name}: branch ${part.branchId} shown as ${formatMicros(shown.get(part.branchId) ?? 0n)}, its part holds ${formatMicros(part.totalMicros)}`,
        );
    }
    if (shown.size !== parts.length)
      problems.push(`${name}: shows ${shown.size} branches, the table holds ${parts.length} parts`);
    return problems;
  });
  return found.flat();
}

/**
 * §5, §7: a terminated customer's accounts and aliases are marked terminated, and the
 * switch is refused them (authorize `customer_terminated`, routing 409); an active
 * customer's lines are not. Aliases belong to an account of their own customer.
 */
async function lineViolations(
  runtime: LocalRuntime,
  tokens: CheckerTokens,
  world: World,
  violations: string[],
): Promise<void> {
  const byNumber = new Map(world.lines.map((line) => [line.number, line]));
  for (const line of world.lines) {
    const customer = world.customers.get(line.customerId);
    if (!customer) {
      violations.push(`line ${line.number}: customer ${line.customerId} does not exist`);
      continue;
    }
    if (line.customerStatus !== customer.status)
      violations.push(
        `line ${line.number}: marked ${line.customerStatus}, its customer ${line.customerId} is ${customer.status}`,
      );
    const account = byNumber.get(line.accountNumber);
    if (
      line.kind === 'alias' &&
      (account?.kind !== 'account' || account.customerId !== line.customerId)
    )
      violations.push(
        `alias ${line.number}: its account ${line.accountNumber} is not an account of ${line.customerId}`,
      );
  }
  const headers = { authorization: `Bearer ${tokens.switch}`, 'content-type': 'application/json' };
  const refusals = await boundedAll(world.lines, 8, async (line) => {
    const terminated = world.customers.get(line.customerId)?.status === 'terminated';
    const authorized = await getJson(`${runtime.url}/sip/authorize`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ username: line.number }),
    });
    const refused =
      authorized.body?.allowed === false && authorized.body.reason === 'customer_terminated';
    if (authorized.status !== 200 || refused !== terminated)
      return [
        `line ${line.number} of ${terminated ? 'terminated' : 'active'} ${line.customerId}: authorize answered ${authorized.status} ${JSON.stringify(authorized.body)}`,
      ];
    if (!terminated) return [];
    const routed = await getJson(`${runtime.url}/routing/${encodeURIComponent(line.number)}`, {
      headers,
    });
    return routed.status === 409 && routed.body?.code === 'customer_terminated'
      ? []
      : [`line ${line.number} of terminated ${line.customerId}: routing answered ${routed.status}`];
  });
  violations.push(...refusals.flat());
}

/**
 * Scans the whole table and lists every broken invariant of the contract (the
 * hierarchy, PBX numbers, DIDs and their activation charges, invoices and consolidated
 * invoices, terminated customers' lines), one readable line each; empty when none is
 * broken. Run it once the stream consumers are idle (`runtime.streamsIdle()`): before,
 * a charge may not be counted yet or a cascade not finished.
 */
export async function invariantViolations(
  runtime: LocalRuntime,
  tokens: CheckerTokens,
): Promise<string[]> {
  const violations = await hierarchyViolations(runtime);
  const world = readWorld(await scanTable(runtime), violations);
  customerViolations(world, violations);
  pbxViolations(world, violations);
  didViolations(world, violations);
  invoiceViolations(world, violations);
  violations.push(...(await consolidatedViewViolations(runtime, tokens, world)));
  await lineViolations(runtime, tokens, world, violations);
  return violations;
}
