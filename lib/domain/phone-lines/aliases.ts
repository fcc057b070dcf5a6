import { customers } from '../../data/customer.js';
import { and, eq } from '../../data/expressions.js';
import { accountAliasesPartition, customerKey, phoneLineKey } from '../../data/keys.js';
import type { Page } from '../../data/pagination.js';
import { type PhoneLine, phoneLines, readLinesOf, readPhoneLine } from '../../data/phone-line.js';
import { transact, WriteConflict } from '../../data/table.js';
import {
  type ETag,
  etagOf,
  type IfMatch,
  matchesIfMatch,
  nextVersion,
  versionIn,
} from '../../data/versioning.js';
import { retryOnWriteConflict } from '../../data/write-conflicts.js';
import { customerTerminated, notFound, preconditionFailed } from '../../errors.js';
import type { Alias, SystemConfig } from '../../schemas/phone-lines.js';
import type { ServiceContext } from '../../service-context.js';
import {
  activeInScope,
  type Caller,
  readActiveCustomer,
  refusalOf,
  visibleOrNotFound,
} from '../access.js';
import { effectivePolicy, ownPolicy } from './alias-policy.js';
import { numberTaken, registerLine } from './registration.js';
import { readSystemConfig } from './system-config.js';

/** An alias as shown, with the version its ETag is made of. */
export interface VersionedAlias {
  readonly alias: Alias;
  readonly etag: ETag;
}

/**
 * A number's line as a line of `kind` the caller may see: the phone lines' one "read
 * it, check scope, else 404" step. The line copies its customer's reseller, so its
 * scope is checked without reading the customer; a line of the other kind looks
 * absent, as one out of scope does.
 */
function visibleLineOrNotFound(
  caller: Caller,
  line: PhoneLine | undefined,
  kind: PhoneLine['kind'],
): PhoneLine {
  if (line?.kind !== kind) throw notFound();
  visibleOrNotFound(caller, { id: line.customerId, resellerId: line.resellerId });
  return line;
}

function presentAlias(line: PhoneLine, config: SystemConfig): Alias {
  return {
    number: line.number,
    accountNumber: line.accountNumber,
    customerId: line.customerId,
    authentication: ownPolicy(line),
    effective: effectivePolicy(line, config),
  };
}

/**
 * A new alias of an account, in three sequential round trips: the account's line (with
 * the system configuration, for the answer, beside it), its customer, then the
 * registering transaction. Without `authentication` the alias takes the customer's
 * aliasAuthDefault at that moment: the transaction is conditioned on the default
 * still being the one read, so a concurrent change of the default cannot slip in
 * between. Changing the default later rewrites no alias.
 */
export async function createAlias(
  ctx: ServiceContext,
  caller: Caller,
  accountNumber: string,
  input: { number: string; authentication?: PhoneLine['authentication'] },
): Promise<Alias> {
  return retryOnWriteConflict(async () => {
    const [line, config] = await Promise.all([
      readPhoneLine(ctx.db, accountNumber),
      readSystemConfig(ctx),
    ]);
    const account = visibleLineOrNotFound(caller, line, 'account');
    // The account's own number: taken, and a transaction may not name one item twice.
    if (input.number === accountNumber) throw numberTaken(input.number);
    const customer = await readActiveCustomer(ctx, caller, account.customerId);
    const aliasDefault = customer.additionalInfo.aliasAuthDefault;
    const alias: PhoneLine = {
      number: input.number,
      kind: 'alias',
      customerId: account.customerId,
      resellerId: account.resellerId,
      accountNumber,
      authentication: input.authentication ?? aliasDefault,
      customerStatus: 'active',
      createdAt: ctx.now().toISOString(),
      version: 1,
    };
    await registerLine(ctx, alias, [
      // Lines are never deleted nor change kind: this only holds what was read.
      phoneLines.check(phoneLineKey(accountNumber), eq('kind', 'account'), () => notFound()),
      customers.check(
        customerKey(customer.id),
        and(activeInScope(caller), eq('additionalInfo.aliasAuthDefault', aliasDefault)),
        // In scope and active, so the default changed: read it again.
        (current) => refusalOf(caller, customer.id, current) ?? new WriteConflict(),
      ),
    ]);
    return presentAlias(alias, config);
  });
}

export async function getAlias(
  ctx: ServiceContext,
  caller: Caller,
  number: string,
): Promise<VersionedAlias> {
  const [line, config] = await Promise.all([readPhoneLine(ctx.db, number), readSystemConfig(ctx)]);
  const alias = visibleLineOrNotFound(caller, line, 'alias');
  return { alias: presentAlias(alias, config), etag: etagOf(alias.version) };
}

/** The alias the caller may change as If-Match asks, else its refusal in the contract's check order (§1): 404, 409, 412. */
function changeableAlias(caller: Caller, line: PhoneLine | undefined, ifMatch: IfMatch): PhoneLine {
  const alias = visibleLineOrNotFound(caller, line, 'alias');
  if (alias.customerStatus !== 'active') throw customerTerminated(alias.customerId);
  if (!matchesIfMatch(ifMatch, etagOf(alias.version))) throw preconditionFailed();
  return alias;
}

/**
 * PATCH of an alias's policy: the line read (with the system configuration beside
 * it), then one transaction. The customer's own status is checked in it: the line's
 * copy of it is only set once the termination effect has run. The line's write is
 * conditioned on the version read, which matched If-Match: so a stale If-Match is a
 * condition of the write too (412), and the answer's ETag is the version written.
 * A policy the alias already has writes nothing: the line is only checked, under the
 * same conditions, so the ETag stays (README, "A write that changes nothing").
 */
export async function patchAlias(
  ctx: ServiceContext,
  caller: Caller,
  number: string,
  authentication: Alias['authentication'],
  ifMatch: IfMatch,
): Promise<VersionedAlias> {
  return retryOnWriteConflict(async () => {
    const [line, config] = await Promise.all([
      readPhoneLine(ctx.db, number),
      readSystemConfig(ctx),
    ]);
    const alias = changeableAlias(caller, line, ifMatch);
    const unchanged = ownPolicy(alias) === authentication;
    // The line as read, so still matching If-Match. When it is not, the line as it
    // was throws its refusal; without one, only its version moved on: read again.
    const lineAsRead = {
      condition: and(
        eq('kind', 'alias'),
        eq('customerId', alias.customerId),
        eq('customerStatus', 'active'),
        versionIn([alias.version]),
      ),
      onConditionFailed: (current: PhoneLine | undefined) => {
        changeableAlias(caller, current, ifMatch);
        return new WriteConflict();
      },
    };
    const key = phoneLineKey(number);
    await transact(ctx.db, [
      customers.check(
        customerKey(alias.customerId),
        activeInScope(caller),
        (current) => refusalOf(caller, alias.customerId, current) ?? new WriteConflict(),
      ),
      unchanged
        ? phoneLines.check(key, lineAsRead.condition, lineAsRead.onConditionFailed)
        : phoneLines.update(key, { set: { authentication, ...nextVersion } }, lineAsRead),
    ]);
    const written = unchanged ? alias : { ...alias, authentication, version: alias.version + 1 };
    return { alias: presentAlias(written, config), etag: etagOf(written.version) };
  });
}

/** An account's aliases; the account's line is read beside the query, for scope. */
export async function listAliases(
  ctx: ServiceContext,
  caller: Caller,
  accountNumber: string,
  query: { limit: number; cursor?: string },
): Promise<Page<Alias>> {
  const [line, page, config] = await Promise.all([
    readPhoneLine(ctx.db, accountNumber),
    readLinesOf(ctx.db, accountAliasesPartition(accountNumber), query),
    readSystemConfig(ctx),
  ]);
  visibleLineOrNotFound(caller, line, 'account');
  return {
    items: page.items.map((alias) => presentAlias(alias, config)),
    nextCursor: page.nextCursor,
  };
}
