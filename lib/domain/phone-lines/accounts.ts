import { customers, readCustomer } from '../../data/customer.js';
import { and, eq } from '../../data/expressions.js';
import { customerAccountsPartition, customerKey } from '../../data/keys.js';
import type { Page } from '../../data/pagination.js';
import { readLinesOf } from '../../data/phone-line.js';
import { WriteConflict, type WriteRequest } from '../../data/table.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import type { Account } from '../../schemas/phone-lines.js';
import type { ServiceContext } from '../../service-context.js';
import { activeInScope, type Caller, refusalOf, visibleOrNotFound } from '../access.js';
import { registerLine } from './registration.js';

/**
 * The customer's check failed only because it belongs to another reseller than the
 * line was about to copy: the item as it was names the right one. A conflict, so if it
 * escapes a second attempt the whole creation runs again.
 */
class CustomerOfAnotherReseller extends WriteConflict {
  constructor(readonly resellerId: string | null) {
    super('The customer belongs to another reseller than the line copied');
  }
}

/**
 * The customer a new account is registered for, checked in the registering
 * transaction: in the caller's scope and active (else the refusal, 404 then 409), and
 * owned by `resellerId`, the reseller the line copies.
 */
const customerOwnedBy = (
  caller: Caller,
  customerId: string,
  resellerId: string | null,
): WriteRequest =>
  customers.check(
    customerKey(customerId),
    and(activeInScope(caller), eq('resellerId', resellerId)),
    (current) =>
      refusalOf(caller, customerId, current) ??
      (current && current.resellerId !== resellerId
        ? new CustomerOfAnotherReseller(current.resellerId)
        : new WriteConflict()),
  );

/**
 * A new account in one round trip: the transaction checks the customer instead of
 * reading it first. The line copies the customer's `resellerId` (later reads of the
 * line alone check scope with it), which a reseller caller knows: its own, since the
 * scope condition requires it. An admin does not, so it guesses null (a customer
 * without reseller) and the check is conditioned on that guess too; when the guess
 * was wrong, the item as it was names the customer's reseller and one more transaction
 * registers the line with it: two round trips, only for an admin creating a line for
 * a reseller's customer.
 */
export async function createAccount(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  number: string,
): Promise<Account> {
  const createdAt = ctx.now().toISOString();
  const register = (resellerId: string | null) =>
    registerLine(
      ctx,
      {
        number,
        kind: 'account',
        customerId,
        resellerId,
        accountNumber: number,
        customerStatus: 'active',
        createdAt,
        version: 1,
      },
      [customerOwnedBy(caller, customerId, resellerId)],
    );
  await retryOnWriteConflict(async () => {
    try {
      await register(caller.role === 'reseller' ? caller.resellerId : null);
    } catch (error) {
      if (!(error instanceof CustomerOfAnotherReseller)) throw error;
      await register(error.resellerId);
    }
  });
  return { number, customerId, createdAt };
}

/** A customer's accounts; the customer is read beside the query, for scope. */
export async function listAccounts(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  query: { limit: number; cursor?: string },
): Promise<Page<Account>> {
  const [customer, page] = await Promise.all([
    readCustomer(ctx.db, customerId),
    readLinesOf(ctx.db, customerAccountsPartition(customerId), query),
  ]);
  visibleOrNotFound(caller, customer);
  return {
    items: page.items.map((line) => ({
      number: line.number,
      customerId: line.customerId,
      createdAt: line.createdAt,
    })),
    nextCursor: page.nextCursor,
  };
}
