import { type Charge, charges } from '../../data/charge.js';
import { type CustomerRecord, mainOfficeOf, readCustomers } from '../../data/customer.js';
import { and, exists, notExists } from '../../data/expressions.js';
import {
  billingPeriods,
  consolidationParts,
  invoices,
  kindTotalAttribute,
} from '../../data/invoice.js';
import {
  billingPeriodKey,
  billingShardOf,
  chargeKey,
  consolidationPartKey,
  invoiceKey,
} from '../../data/keys.js';
import { transactReportingFailures, type WriteRequest } from '../../data/table.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import type { ServiceContext } from '../../service-context.js';
import { microsOf } from './amounts.js';
import { closePeriodWhenCounted } from './period-close.js';
import { nextPeriod, periodOf } from './periods.js';

/**
 * The invoice aggregation (§9): counts charges into their invoices exactly once.
 *
 * A stream batch's charges are grouped by invoice (customer and period) and each group
 * is one transaction: the invoice's totals `ADD`ed, the branch's part of its main
 * office's consolidated invoice `ADD`ed when it is consolidated, the period's shard
 * checked open (for the close's own charges: its count of them `ADD`ed, which the close
 * waits for), and every charge of the group marked `countedIn` on condition that it is
 * not yet. A charge delivered twice, retried after a crash, or seen by two
 * consumers at once fails its marker's condition and is dropped from the group, which
 * is sent again without it: counted once, never lost.
 */

/** Charges per transaction: DynamoDB takes 100 items, three go to the invoice, its part and the period. */
const chargesPerTransaction = 97;

/** A charge the aggregation cannot count however often it is tried: its record belongs in the dead-letter queue. */
export class UncountableCharge extends Error {
  constructor(
    readonly charge: Charge,
    reason: string,
  ) {
    super(`Charge ${charge.id} of ${charge.customerId} cannot be counted: ${reason}`);
    this.name = 'UncountableCharge';
  }
}

/**
 * What tells two charges apart: an id is unique within its customer only (the close's
 * recurring charge of a number is named by period and number, and a number can change
 * hands while a close runs).
 */
export const chargeIdentity = (charge: Pick<Charge, 'customerId' | 'id'>): string =>
  `${charge.customerId}|${charge.id}`;

interface InvoiceTarget {
  readonly customer: CustomerRecord;
  readonly period: string;
  /** The period was decided by the charge's writer (the close's recurring charges): closed or not, it is counted there. */
  readonly fixedPeriod: boolean;
  /** The active main office that consolidates this customer's invoice now, or null. */
  readonly consolidatedInto: string | null;
}

/**
 * Counts every charge not counted yet. Answers the charges it can never count (no such
 * customer, another currency); any other failure throws, and the batch is retried.
 */
export async function countCharges(
  ctx: ServiceContext,
  batch: readonly Charge[],
): Promise<UncountableCharge[]> {
  // One charge once per batch, however often it was delivered: a transaction may not write an item twice.
  const pending = [
    ...new Map(
      batch
        .filter((charge) => charge.countedIn === undefined)
        .map((charge) => [chargeIdentity(charge), charge]),
    ).values(),
  ];
  const customers = await readCustomersOf(
    ctx,
    pending.map((charge) => charge.customerId),
  );
  const mainOffices = await readCustomersOf(
    ctx,
    [...customers.values()].flatMap((customer) => mainOfficeOf(customer) ?? []),
  );
  const uncountable: UncountableCharge[] = [];
  const groups = new Map<string, { target: InvoiceTarget; charges: Charge[] }>();
  for (const charge of pending) {
    const customer = customers.get(charge.customerId);
    if (!customer) {
      uncountable.push(new UncountableCharge(charge, `no customer ${charge.customerId}`));
      continue;
    }
    if (customer.currency !== charge.currency) {
      uncountable.push(new UncountableCharge(charge, `customer bills in ${customer.currency}`));
      continue;
    }
    const target = targetOf(customer, charge, mainOffices);
    const groupId = `${customer.id}|${target.period}|${target.fixedPeriod}`;
    const group = groups.get(groupId) ?? { target, charges: [] };
    group.charges.push(charge);
    groups.set(groupId, group);
  }
  for (const { target, charges: grouped } of groups.values()) {
    for (let start = 0; start < grouped.length; start += chargesPerTransaction) {
      await countGroup(ctx, target, grouped.slice(start, start + chargesPerTransaction));
    }
  }
  // After the counts are written: the close waiting for them may be done now.
  const closing = new Set(
    [...groups.values()]
      .filter(({ target }) => target.fixedPeriod)
      .map(({ target }) => target.period),
  );
  for (const period of closing) await closePeriodWhenCounted(ctx, period);
  return uncountable;
}

async function readCustomersOf(ctx: ServiceContext, ids: readonly string[]) {
  const unique = [...new Set(ids)];
  const found = new Map<string, CustomerRecord>();
  for (let start = 0; start < unique.length; start += 100) {
    for (const [id, record] of await readCustomers(ctx.db, unique.slice(start, start + 100))) {
      found.set(id, record);
    }
  }
  return found;
}

/** Whether a branch's charges counted now go into this main office's consolidated invoice. */
export const consolidates = (mainOffice: CustomerRecord): boolean =>
  mainOffice.status === 'active' &&
  mainOffice.additionalInfo.officeHierarchy.invoicing === 'consolidated';

function targetOf(
  customer: CustomerRecord,
  charge: Charge,
  mainOffices: ReadonlyMap<string, CustomerRecord>,
): InvoiceTarget {
  const mainOfficeId = mainOfficeOf(customer);
  const mainOffice = mainOfficeId ? mainOffices.get(mainOfficeId) : undefined;
  return {
    customer,
    period: charge.period ?? periodOf(new Date(charge.occurredAt), customer.timezone),
    fixedPeriod: charge.period !== null,
    consolidatedInto: mainOffice && consolidates(mainOffice) ? mainOffice.id : null,
  };
}

/**
 * One transaction for charges of one invoice, sent again until it lands: without the
 * charges counted meanwhile, and in the next period when this one closed meanwhile.
 */
async function countGroup(
  ctx: ServiceContext,
  target: InvoiceTarget,
  grouped: readonly Charge[],
): Promise<void> {
  let period = target.period;
  let remaining = grouped;
  while (remaining.length > 0) {
    const writes = groupWrites(target, period, remaining);
    const failed = new Set(
      await retryOnWriteConflict(() => transactReportingFailures(ctx.db, writes.all)),
    );
    if (failed.size === 0) return;
    // Only an open check can fail here: a fixed period's count has no condition.
    if (failed.has(writes.periodState)) {
      period = nextPeriod(period);
      continue;
    }
    remaining = remaining.filter((_, index) => !failed.has(writes.markers[index] as WriteRequest));
  }
}

function groupWrites(target: InvoiceTarget, period: string, grouped: readonly Charge[]) {
  const { customer, consolidatedInto } = target;
  const totals = new Map<string, bigint>();
  let total = 0n;
  for (const charge of grouped) {
    const micros = microsOf(charge.amount);
    total += micros;
    const attribute = kindTotalAttribute(charge.kind);
    totals.set(attribute, (totals.get(attribute) ?? 0n) + micros);
  }
  const shard = billingShardOf(customer.id);
  // A charge of a fixed period (the close's) is counted there, and counted for the close
  // that waits for it; any other is counted in an open period.
  const periodState = target.fixedPeriod
    ? billingPeriods.update(billingPeriodKey(period, shard), {
        set: { period, shard },
        add: { recurringCounted: grouped.length },
      })
    : billingPeriods.check(billingPeriodKey(period, shard), notExists('closedAt'));
  const markers = grouped.map((charge) =>
    charges.update(
      chargeKey(charge.customerId, charge.id),
      { set: { countedIn: period } },
      { condition: and(exists('pk'), notExists('countedIn')) },
    ),
  );
  const invoice = invoices.update(invoiceKey(customer.id, period), {
    set: { customerId: customer.id, period, currency: customer.currency, consolidatedInto },
    add: {
      totalMicros: total,
      ...Object.fromEntries(totals),
      chargeCount: grouped.length,
      version: 1,
    },
  });
  const part = consolidatedInto
    ? [
        consolidationParts.update(consolidationPartKey(consolidatedInto, period, customer.id), {
          set: {
            mainOfficeId: consolidatedInto,
            branchId: customer.id,
            period,
            name: customer.name,
            currency: customer.currency,
          },
          add: { totalMicros: total, chargeCount: grouped.length },
        }),
      ]
    : [];
  return {
    periodState,
    markers,
    all: [periodState, invoice, ...part, ...markers],
  };
}
