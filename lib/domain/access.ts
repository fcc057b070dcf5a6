import { type CustomerRecord, readCustomer } from '../data/customer.js';
import { and, type Condition, eq, exists } from '../data/expressions.js';
import { customerTerminated, notFound } from '../errors.js';
import type { ServiceContext } from '../service-context.js';

/**
 * Who may see what (§2) is a domain rule: every service takes the caller and
 * asks this module, whether the caller arrived over HTTP or not.
 */
export const roles = ['admin', 'reseller', 'customer', 'switch'] as const;
export type Role = (typeof roles)[number];

export type Caller =
  | { readonly role: 'admin' }
  | { readonly role: 'reseller'; readonly resellerId: string }
  | { readonly role: 'customer'; readonly customerId: string }
  | { readonly role: 'switch' };

/** What a customer (or something of a customer's) must match to be visible to the caller. */
export interface Scoped {
  readonly id: string;
  readonly resellerId: string | null;
}

export function canSee(caller: Caller, customer: Scoped): boolean {
  switch (caller.role) {
    case 'admin':
      return true;
    case 'reseller':
      return customer.resellerId === caller.resellerId;
    case 'customer':
      return customer.id === caller.customerId;
    case 'switch':
      return false;
  }
}

/** Out of scope looks exactly like absent, so existence does not leak across tenants. */
export function visibleOrNotFound<T extends Scoped>(caller: Caller, customer: T | undefined): T {
  if (!customer || !canSee(caller, customer)) throw notFound();
  return customer;
}

/** Reads a customer and checks the caller may see it: the one "read it, check scope, else 404" step. */
export async function readVisibleCustomer(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
): Promise<CustomerRecord> {
  return visibleOrNotFound(caller, await readCustomer(ctx.db, id));
}

/** The customer a change applies to: in the caller's scope (404) and active (409). */
export async function readActiveCustomer(
  ctx: ServiceContext,
  caller: Caller,
  id: string,
): Promise<CustomerRecord> {
  const customer = await readVisibleCustomer(ctx, caller, id);
  if (customer.status !== 'active') throw customerTerminated(id);
  return customer;
}

/**
 * The caller's scope as a condition on a customer item, so a write can check it
 * without reading first; `refusalOf` tells from the item as it was which check failed.
 */
export function scopeCondition(caller: Caller): Condition {
  switch (caller.role) {
    case 'reseller':
      return eq('resellerId', caller.resellerId);
    case 'customer':
      return eq('id', caller.customerId);
    default:
      return exists('pk');
  }
}

/** The conditions of a change to an active customer in the caller's scope. */
export const activeInScope = (caller: Caller): Condition =>
  and(exists('pk'), scopeCondition(caller), eq('status', 'active'));

/** Why a customer failed `activeInScope`, in the contract's check order (§1): 404 (absent or out of scope), then 409. */
export function refusalOf(
  caller: Caller,
  id: string,
  current: CustomerRecord | undefined,
): Error | undefined {
  if (!current || !canSee(caller, current)) return notFound();
  if (current.status !== 'active') return customerTerminated(id);
  return undefined;
}
