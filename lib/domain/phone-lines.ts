import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { boundedAll } from '../concurrency.js';
import type { CustomerRecord } from '../data/customer-records.js';
import {
  accountAliasesPartition,
  customerAccountsPartition,
  customerKey,
  customerLineCountKey,
  entityTypes,
  phoneLineKey,
} from '../data/keys.js';
import { decodeCursor, type Page, pageFrom } from '../data/pagination.js';
import { retryOnWriteConflict } from '../data/write-conflicts.js';
import { AppError, customerTerminated, notFound } from '../errors.js';
import { type Caller, canSee } from '../http/caller.js';
import type {
  Account,
  Alias,
  Authorization,
  Routing,
  SystemConfig,
} from '../schemas/phone-lines.js';
import { aliasPolicySchema } from '../schemas/phone-lines.js';
import type { ServiceContext } from '../service-context.js';
import { readActiveCustomer, readCustomerRecord } from './customers.js';
import { cachedSystemConfig } from './system-config.js';

/** A phone number's registry item: what the switch-facing calls read, in one GetItem. */
const phoneLineSchema = z.object({
  number: z.string(),
  kind: z.enum(['account', 'alias']),
  customerId: z.string(),
  resellerId: z.string().nullable(),
  /** The main account: the account itself, or the account an alias belongs to. */
  accountNumber: z.string(),
  /** Aliases only. */
  authentication: aliasPolicySchema.optional(),
  /** Copied from the customer when it is terminated (a termination effect). */
  customerStatus: z.enum(['active', 'terminated']),
  createdAt: z.string(),
});
type PhoneLine = z.infer<typeof phoneLineSchema>;

const numberTaken = (number: string) =>
  new AppError(409, 'number_taken', 'Number taken', `${number} is already an account or an alias.`);

const lineVisible = (caller: Caller, line: PhoneLine) =>
  canSee(caller, { id: line.customerId, resellerId: line.resellerId });

async function readLine(ctx: ServiceContext, number: string): Promise<PhoneLine | undefined> {
  const { Item } = await ctx.db.client.send(
    new GetCommand({
      TableName: ctx.db.tableName,
      Key: phoneLineKey(number),
      ConsistentRead: true,
    }),
  );
  return Item ? phoneLineSchema.parse(Item) : undefined;
}

const lineItem = (line: PhoneLine) => ({
  ...phoneLineKey(line.number),
  entityType: entityTypes.phoneLine,
  ownerPk:
    line.kind === 'account'
      ? customerAccountsPartition(line.customerId)
      : accountAliasesPartition(line.accountNumber),
  ...line,
});

/**
 * Registers a line: the registry item's conditional put makes the number an account
 * or an alias, never both, across all customers; the customer's line counter and the
 * conditions on what was read go in the same transaction.
 */
async function registerLine(
  ctx: ServiceContext,
  line: PhoneLine,
  customerConditions: {
    expression: string;
    names: Record<string, string>;
    values: Record<string, unknown>;
  },
  extraConditionChecks: ConditionCheck[] = [],
): Promise<void> {
  try {
    await ctx.db.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: ctx.db.tableName,
              Item: lineItem(line),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            ConditionCheck: {
              TableName: ctx.db.tableName,
              Key: customerKey(line.customerId),
              ConditionExpression: customerConditions.expression,
              ExpressionAttributeNames: customerConditions.names,
              ExpressionAttributeValues: customerConditions.values,
            },
          },
          {
            Update: {
              TableName: ctx.db.tableName,
              Key: customerLineCountKey(line.customerId),
              UpdateExpression: 'ADD lineCount :one',
              ExpressionAttributeValues: { ':one': 1 },
            },
          },
          ...extraConditionChecks.map((check) => ({ ConditionCheck: check })),
        ],
      }),
    );
  } catch (error) {
    if (
      error instanceof TransactionCanceledException &&
      error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
    ) {
      throw numberTaken(line.number);
    }
    throw error;
  }
}

interface ConditionCheck {
  readonly TableName: string;
  readonly Key: Record<string, unknown>;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

export async function createAccount(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  number: string,
): Promise<Account> {
  return retryOnWriteConflict(async () => {
    const customer = await readActiveCustomer(ctx, caller, customerId);
    const line: PhoneLine = {
      number,
      kind: 'account',
      customerId,
      resellerId: customer.resellerId,
      accountNumber: number,
      customerStatus: 'active',
      createdAt: ctx.now().toISOString(),
    };
    await registerLine(ctx, line, {
      expression: '#status = :active',
      names: { '#status': 'status' },
      values: { ':active': 'active' },
    });
    return { number, customerId, createdAt: line.createdAt };
  });
}

/**
 * A new alias of an account. Without `authentication` it takes the customer's
 * aliasAuthDefault at that moment: the transaction is conditioned on the default
 * still being the one read, so a concurrent change of the default cannot slip in
 * between. Changing the default later rewrites no alias.
 */
export async function createAlias(
  ctx: ServiceContext,
  caller: Caller,
  accountNumber: string,
  input: { number: string; authentication?: PhoneLine['authentication'] },
  systemConfig: (ctx: ServiceContext) => Promise<SystemConfig> | SystemConfig,
): Promise<Alias> {
  return retryOnWriteConflict(async () => {
    const account = await readLine(ctx, accountNumber);
    if (account?.kind !== 'account' || !lineVisible(caller, account)) throw notFound();
    // The account's own number: taken, and a transaction may not name one item twice.
    if (input.number === accountNumber) throw numberTaken(input.number);
    const customer = await readActiveCustomer(ctx, caller, account.customerId);
    const authentication = input.authentication ?? customer.additionalInfo.aliasAuthDefault;
    const line: PhoneLine = {
      number: input.number,
      kind: 'alias',
      customerId: account.customerId,
      resellerId: account.resellerId,
      accountNumber,
      authentication,
      customerStatus: 'active',
      createdAt: ctx.now().toISOString(),
    };
    await registerLine(
      ctx,
      line,
      {
        expression: '#status = :active AND #info.#default = :default',
        names: { '#status': 'status', '#info': 'additionalInfo', '#default': 'aliasAuthDefault' },
        values: { ':active': 'active', ':default': customer.additionalInfo.aliasAuthDefault },
      },
      [
        {
          TableName: ctx.db.tableName,
          Key: phoneLineKey(accountNumber),
          ConditionExpression: '#kind = :account',
          ExpressionAttributeNames: { '#kind': 'kind' },
          ExpressionAttributeValues: { ':account': 'account' },
        },
      ],
    );
    return presentAlias(line, await systemConfig(ctx));
  });
}

/** The policy an alias has in effect: its own, or the system's; none for a terminated customer. */
function effectivePolicy(line: PhoneLine, config: SystemConfig): Alias['effective'] {
  const authentication = line.authentication ?? 'system';
  const policy =
    authentication === 'system'
      ? { canRegister: config.aliasAuthentication === 'enabled', source: 'system' as const }
      : { canRegister: authentication === 'enabled', source: 'alias' as const };
  return line.customerStatus === 'terminated' ? { ...policy, canRegister: false } : policy;
}

function presentAlias(line: PhoneLine, config: SystemConfig): Alias {
  return {
    number: line.number,
    accountNumber: line.accountNumber,
    customerId: line.customerId,
    authentication: line.authentication ?? 'system',
    effective: effectivePolicy(line, config),
  };
}

export async function getAlias(
  ctx: ServiceContext,
  caller: Caller,
  number: string,
  systemConfig: (ctx: ServiceContext) => Promise<SystemConfig> | SystemConfig,
): Promise<Alias> {
  const [line, config] = await Promise.all([readLine(ctx, number), systemConfig(ctx)]);
  if (line?.kind !== 'alias' || !lineVisible(caller, line)) throw notFound();
  return presentAlias(line, config);
}

/**
 * PATCH of an alias's policy. The customer's own status is checked in the same
 * transaction: the line's copy of it is only set once the termination effect has run.
 */
export async function patchAlias(
  ctx: ServiceContext,
  caller: Caller,
  number: string,
  authentication: NonNullable<PhoneLine['authentication']>,
  systemConfig: (ctx: ServiceContext) => Promise<SystemConfig> | SystemConfig,
): Promise<Alias> {
  return retryOnWriteConflict(async () => {
    const line = await readLine(ctx, number);
    if (line?.kind !== 'alias' || !lineVisible(caller, line)) throw notFound();
    if (line.customerStatus !== 'active') throw customerTerminated(line.customerId);
    try {
      await ctx.db.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: ctx.db.tableName,
                Key: phoneLineKey(number),
                UpdateExpression: 'SET authentication = :authentication',
                ConditionExpression:
                  '#kind = :alias AND customerStatus = :active AND customerId = :customerId',
                ExpressionAttributeNames: { '#kind': 'kind' },
                ExpressionAttributeValues: {
                  ':authentication': authentication,
                  ':alias': 'alias',
                  ':active': 'active',
                  ':customerId': line.customerId,
                },
              },
            },
            {
              ConditionCheck: {
                TableName: ctx.db.tableName,
                Key: customerKey(line.customerId),
                ConditionExpression: '#status = :active',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':active': 'active' },
              },
            },
          ],
        }),
      );
      return presentAlias({ ...line, authentication }, await systemConfig(ctx));
    } catch (error) {
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[1]?.Code === 'ConditionalCheckFailed'
      ) {
        throw customerTerminated(line.customerId);
      }
      // Any other conflict: the line changed in between (its status marked, say); read it again.
      throw error;
    }
  });
}

async function listLines(
  ctx: ServiceContext,
  partition: string,
  query: { limit: number; cursor?: string },
): Promise<Page<PhoneLine>> {
  const keyAttributes = ['pk', 'sk', 'ownerPk', 'number'];
  const startKey = query.cursor
    ? decodeCursor(
        query.cursor,
        keyAttributes,
        { attribute: 'ownerPk', value: partition },
        (key) => key.pk === phoneLineKey(key.number ?? '').pk && key.sk === phoneLineKey('').sk,
      )
    : undefined;
  const { Items = [] } = await ctx.db.client.send(
    new QueryCommand({
      TableName: ctx.db.tableName,
      IndexName: 'linesByOwner',
      KeyConditionExpression: 'ownerPk = :owner',
      ExpressionAttributeValues: { ':owner': partition },
      Limit: query.limit + 1,
      ExclusiveStartKey: startKey,
    }),
  );
  return pageFrom(Items, query.limit, keyAttributes, (item) => phoneLineSchema.parse(item));
}

/** A customer's accounts; the customer is read beside the query, for scope. */
export async function listAccounts(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  query: { limit: number; cursor?: string },
): Promise<Page<Account>> {
  const [customer, page] = await Promise.all([
    readCustomerRecord(ctx, customerId),
    listLines(ctx, customerAccountsPartition(customerId), query),
  ]);
  if (!customer || !canSee(caller, customer)) throw notFound();
  return {
    items: page.items.map((line) => ({
      number: line.number,
      customerId: line.customerId,
      createdAt: line.createdAt,
    })),
    nextCursor: page.nextCursor,
  };
}

/** An account's aliases; the account's registry item is read beside the query, for scope. */
export async function listAliases(
  ctx: ServiceContext,
  caller: Caller,
  accountNumber: string,
  query: { limit: number; cursor?: string },
  systemConfig: (ctx: ServiceContext) => Promise<SystemConfig> | SystemConfig,
): Promise<Page<Alias>> {
  const [account, page, config] = await Promise.all([
    readLine(ctx, accountNumber),
    listLines(ctx, accountAliasesPartition(accountNumber), query),
    systemConfig(ctx),
  ]);
  if (account?.kind !== 'account' || !lineVisible(caller, account)) throw notFound();
  return {
    items: page.items.map((line) => presentAlias(line, config)),
    nextCursor: page.nextCursor,
  };
}

// The switch-facing calls: one GetItem each, the system configuration from a cache.

export const switchSystemConfig = cachedSystemConfig();

/** POST /sip/authorize: may this username register, and which account pays. */
export async function authorize(
  ctx: ServiceContext,
  username: string,
  systemConfig: (ctx: ServiceContext) => Promise<SystemConfig> | SystemConfig = switchSystemConfig,
): Promise<Authorization> {
  const [line, config] = await Promise.all([
    /^\+[1-9]\d{7,14}$/.test(username) ? readLine(ctx, username) : undefined,
    systemConfig(ctx),
  ]);
  if (!line)
    return {
      allowed: false,
      aliasOf: null,
      chargedAccountNumber: null,
      reason: 'unknown_username',
    };
  const aliasOf = line.kind === 'alias' ? line.accountNumber : null;
  const answer = { aliasOf, chargedAccountNumber: line.accountNumber };
  if (line.customerStatus === 'terminated')
    return { allowed: false, ...answer, reason: 'customer_terminated' };
  if (line.kind === 'account' || effectivePolicy(line, config).canRegister)
    return { allowed: true, ...answer };
  return { allowed: false, ...answer, reason: 'alias_registration_disabled' };
}

/** GET /routing/{number}: a disabled alias rings its main account; one that may register rings itself. */
export async function route(
  ctx: ServiceContext,
  number: string,
  systemConfig: (ctx: ServiceContext) => Promise<SystemConfig> | SystemConfig = switchSystemConfig,
): Promise<Routing> {
  const [line, config] = await Promise.all([readLine(ctx, number), systemConfig(ctx)]);
  if (!line) throw notFound(`${number} is neither an account nor an alias.`);
  if (line.customerStatus === 'terminated') throw customerTerminated(line.customerId);
  if (line.kind === 'account') return { number, ringAccountNumber: number, viaAlias: false };
  const ringsItself = effectivePolicy(line, config).canRegister;
  return { number, ringAccountNumber: ringsItself ? number : line.accountNumber, viaAlias: true };
}

// Termination: the lines of a terminated customer stop registering.

/**
 * A termination effect (lib/domain/termination-effects.ts): marks every account and
 * alias of the customer terminated on its registry item, which is what the switch
 * reads. It then checks it marked as many lines as the customer was ever given: the
 * index it walks is eventually consistent, and a line registered just before the
 * termination may not show yet; failing the record makes the stream retry it.
 */
/**
 * Line updates in flight at once. With about 10 ms a write, a 300-second invocation
 * marks a few hundred thousand lines; a customer with more would need this effect
 * chunked like the cascade (README, Limits).
 */
const lineUpdatesInFlight = 16;

export async function denyLinesOfTerminatedCustomer(
  ctx: ServiceContext,
  customer: CustomerRecord,
): Promise<void> {
  // Most terminated customers (a cascade's branches, say) have no lines: one read says so.
  const { Item } = await ctx.db.client.send(
    new GetCommand({
      TableName: ctx.db.tableName,
      Key: customerLineCountKey(customer.id),
      ConsistentRead: true,
    }),
  );
  const expected = Number(Item?.lineCount ?? 0);
  if (expected === 0) return;
  let marked = 0;
  const markAll = async (partition: string, onEach?: (line: PhoneLine) => Promise<void>) => {
    let cursor: string | undefined;
    do {
      const page = await listLines(ctx, partition, { limit: 100, cursor });
      await boundedAll(page.items, lineUpdatesInFlight, async (line) => {
        await ctx.db.client.send(
          new UpdateCommand({
            TableName: ctx.db.tableName,
            Key: phoneLineKey(line.number),
            UpdateExpression: 'SET customerStatus = :terminated',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':terminated': 'terminated' },
          }),
        );
        marked += 1;
        await onEach?.(line);
      });
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  };
  await markAll(customerAccountsPartition(customer.id), (account) =>
    markAll(accountAliasesPartition(account.number)),
  );
  if (marked < expected) {
    throw new Error(
      `Customer ${customer.id}: marked ${marked} of ${expected} lines; the index is catching up`,
    );
  }
}
