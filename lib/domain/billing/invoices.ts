import { createHash } from 'node:crypto';
import { customers, mainOfficeOf, readCustomer } from '../../data/customer.js';
import {
  billingPeriods,
  type ConsolidationPart,
  type InvoiceRecord,
  invoices,
  kindTotalAttribute,
  queryConsolidationParts,
  queryInvoices,
} from '../../data/invoice.js';
import { billingPeriodKey, billingShardOf, customerKey, invoiceKey } from '../../data/keys.js';
import type { Page } from '../../data/pagination.js';
import { batchGetItems } from '../../data/table.js';
import { type ETag, etagOf } from '../../data/versioning.js';
import { chargeKinds, type InvoiceView } from '../../schemas/billing.js';
import type { ServiceContext } from '../../service-context.js';
import { type Caller, readVisibleCustomer, visibleOrNotFound } from '../access.js';
import { consolidates } from './aggregation.js';
import { formatMicros } from './amounts.js';

/**
 * One invoice (§9) in one round trip: the customer, its invoice and the period's state
 * read together, and beside them the parts of a consolidated invoice the customer may
 * head (16 small queries, empty for anyone but a main office under consolidated
 * invoicing). A period without charges yet answers its empty open invoice; a branch's
 * takes a second round trip, for its main office.
 */
export async function readInvoice(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  period: string,
): Promise<{ readonly invoice: InvoiceView; readonly etag: ETag }> {
  const periodKey = billingPeriodKey(period, billingShardOf(customerId));
  const [items, parts] = await Promise.all([
    batchGetItems(ctx.db, [customerKey(customerId), invoiceKey(customerId, period), periodKey]),
    queryConsolidationParts(ctx.db, customerId, period),
  ]);
  const customer = visibleOrNotFound(caller, customers.from(items, customerKey(customerId)));
  const stored = invoices.from(items, invoiceKey(customerId, period));
  // A branch's invoice without charges yet shows where its first one would go: a second
  // read, of its main office, on this path only.
  const mainOfficeId = stored ? null : mainOfficeOf(customer);
  const mainOffice = mainOfficeId ? await readCustomer(ctx.db, mainOfficeId) : undefined;
  const record =
    stored ??
    emptyInvoice(customer, period, mainOffice && consolidates(mainOffice) ? mainOffice.id : null);
  const closed = isClosed(billingPeriods.from(items, periodKey));
  const heads =
    parts.length > 0 ||
    (customer.additionalInfo.officeHierarchy.office === 'main' &&
      customer.additionalInfo.officeHierarchy.invoicing === 'consolidated');
  const invoice = {
    ...viewOf(record, closed),
    ...(heads ? { consolidated: consolidatedView(record, parts) } : {}),
  };
  // What is shown changes only with one of these, each of which only grows: a count, a
  // branch's count, the close, the customer (its invoicing decides whether `consolidated`
  // shows) and, on an empty branch invoice, its main office (where charges would go).
  const changes = [
    record.version,
    parts.reduce((sum, part) => sum + part.chargeCount, 0),
    closed,
    customer.version,
    mainOffice?.version ?? '-',
  ];
  return { invoice, etag: etagOfState(changes) };
}

/**
 * A page of a customer's invoices, newest first: the customer and the page read side
 * by side, then the periods' states. The consolidated view is read with each invoice.
 */
export async function listInvoices(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  page: { readonly limit: number; readonly cursor?: string | undefined },
): Promise<Page<InvoiceView>> {
  const [, found] = await Promise.all([
    readVisibleCustomer(ctx, caller, customerId),
    queryInvoices(ctx.db, customerId, page),
  ]);
  const periodKeyOf = (period: string) => billingPeriodKey(period, billingShardOf(customerId));
  const states =
    found.items.length > 0
      ? await batchGetItems(
          ctx.db,
          found.items.map((invoice) => periodKeyOf(invoice.period)),
        )
      : new Map<string, Record<string, unknown>>();
  return {
    items: found.items.map((invoice) =>
      viewOf(invoice, isClosed(billingPeriods.from(states, periodKeyOf(invoice.period)))),
    ),
    nextCursor: found.nextCursor,
  };
}

const isClosed = (state: { readonly closedAt: string | null } | undefined): boolean =>
  (state?.closedAt ?? null) !== null;

/** An ETag naming a state by what it is made of: 48 bits of its digest, so 15 digits at most. */
const etagOfState = (state: readonly unknown[]): ETag =>
  etagOf(
    Number.parseInt(
      createHash('sha256').update(JSON.stringify(state)).digest('hex').slice(0, 12),
      16,
    ),
  );

const emptyInvoice = (
  customer: { readonly id: string; readonly currency: string },
  period: string,
  consolidatedInto: string | null,
): InvoiceRecord => ({
  customerId: customer.id,
  period,
  currency: customer.currency,
  totalMicros: 0n,
  usageMicros: 0n,
  did_activationMicros: 0n,
  did_recurringMicros: 0n,
  manualMicros: 0n,
  chargeCount: 0,
  version: 0,
  consolidatedInto,
});

function viewOf(record: InvoiceRecord, closed: boolean): InvoiceView {
  return {
    customerId: record.customerId,
    period: record.period,
    status: closed ? 'closed' : 'open',
    currency: record.currency,
    total: formatMicros(record.totalMicros),
    totalsByKind: Object.fromEntries(
      chargeKinds.map((kind) => [
        kind,
        formatMicros(record[kindTotalAttribute(kind) as keyof InvoiceRecord] as bigint),
      ]),
    ),
    chargeCount: record.chargeCount,
    consolidatedInto: record.consolidatedInto,
  };
}

/** The main office's own total and each branch part; the total is their sum, by construction. */
function consolidatedView(record: InvoiceRecord, parts: readonly ConsolidationPart[]) {
  const branches = [...parts].sort(
    (a, b) => a.name.localeCompare(b.name) || a.branchId.localeCompare(b.branchId),
  );
  const total = branches.reduce((sum, part) => sum + part.totalMicros, record.totalMicros);
  return {
    total: formatMicros(total),
    currency: record.currency,
    branches: branches.map((part) => ({
      customerId: part.branchId,
      name: part.name,
      total: formatMicros(part.totalMicros),
    })),
  };
}
