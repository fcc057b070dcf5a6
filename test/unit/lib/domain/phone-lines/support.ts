import { expect } from 'vitest';
import { valuesIn } from '../../../../fixtures/command-inputs.js';
import { type Item, type Key, transactions } from '../../../../fixtures/mocked-table.js';

export {
  cancelEvery,
  cancelInTurn,
  cancellation,
  ddb,
  gets,
  store,
  transactions,
  writes,
} from '../../../../fixtures/mocked-table.js';

/** Keys spelled out here, not taken from keys.ts, so a change of layout shows. */
export const customerKey = (id: string) => ({ pk: `CUSTOMER#${id}`, sk: 'CUSTOMER' });
export const lineKey = (number: string) => ({ pk: `PHONE#${number}`, sk: 'LINE' });
export const lineCountKey = (id: string) => ({ pk: `CUSTOMER#${id}`, sk: 'LINE_COUNT' });
export const configKey = { pk: 'SYSTEM', sk: 'CONFIG' };

export const accountNumber = '+4930100000';
export const aliasNumber = '+4930100001';
export const unknownNumber = '+4930999999';

type Policy = 'system' | 'enabled' | 'disabled';

export interface LineShape {
  readonly customerId?: string;
  readonly resellerId?: string | null;
  readonly customerStatus?: 'active' | 'terminated';
  /** Undefined: a line written before versions existed. */
  readonly version?: number;
}

/** A line's registry item as stored: customer c1 of reseller r1, active, version 2, unless told. */
function lineItem(
  number: string,
  kind: { readonly ownerPk: string; readonly accountNumber: string },
  shape: LineShape,
  extra: Record<string, unknown>,
): Item {
  const {
    customerId = 'c1',
    resellerId = 'r1',
    customerStatus = 'active',
    version,
  } = {
    version: 2,
    ...shape,
  };
  return {
    ...lineKey(number),
    entityType: 'phoneLine',
    number,
    customerId,
    resellerId,
    customerStatus,
    ...kind,
    ...extra,
    ...(version ? { version } : {}),
  };
}

export const accountLine = (number: string, shape: LineShape = {}): Item =>
  lineItem(
    number,
    { ownerPk: `ACCOUNTS#${shape.customerId ?? 'c1'}`, accountNumber: number },
    shape,
    { kind: 'account', createdAt: '2026-11-02T00:00:00.000Z' },
  );

/** An alias of `account`; without `authentication` as aliases of before policies were stored. */
export const aliasLine = (
  number: string,
  account: string,
  authentication: Policy | undefined,
  shape: LineShape = {},
): Item =>
  lineItem(number, { ownerPk: `ALIASES#${account}`, accountNumber: account }, shape, {
    kind: 'alias',
    createdAt: '2026-11-03T00:00:00.000Z',
    ...(authentication ? { authentication } : {}),
  });

/** The stored system configuration; without `version` as written before versions existed. */
export const storedConfig = (aliasAuthentication: string, version?: number): Item => ({
  ...configKey,
  entityType: 'systemConfig',
  aliasAuthentication,
  updatedAt: '2026-11-27T09:00:00.000Z',
  ...(version ? { version } : {}),
});

export const terminated = {
  status: 'terminated',
  terminatedAt: '2026-11-20T00:00:00.000Z',
  terminatedBy: { reason: 'requested' },
} as const;

/** The line put by the `index`th transaction. */
export const linePut = (index = 0) =>
  transactions()[index]?.find((entry) => 'put' in entry)?.put as Record<string, unknown>;

const idOf = (key: Key) => `${key.pk}|${key.sk}`;
const targetOf = (entry: NonNullable<ReturnType<typeof transactions>[number]>[number]) =>
  ('put' in entry ? entry.put : Object.values(entry)[0]) as Key;

/**
 * What the `index`th transaction does to each item, by `pk|sk` (see `itemAt`): the
 * items' order in the transaction is not what a test pins.
 */
export const transactionByItem = (index = 0) =>
  Object.fromEntries((transactions()[index] ?? []).map((entry) => [idOf(targetOf(entry)), entry]));

/** How `transactionByItem` names the item at `key`. */
export const itemAt = idOf;

/** What the `index`th transaction does to the item at `key`, wherever it is in the transaction. */
export const entryFor = (key: Key, index = 0) => transactionByItem(index)[idOf(key)];

/** A registration's count of the customer's new line, as `transactionByItem` shows it. */
export const lineCounted = (customerId: string) => ({
  update: lineCountKey(customerId),
  values: expect.arrayContaining([1, 'lineCounter']),
  conditioned: false,
});

/** The `linesByOwner` partition a query asks for: the one owner partition among its values. */
export const ownerQueried = (input: Parameters<typeof valuesIn>[0]) =>
  valuesIn(input).find((value) => /^(ACCOUNTS|ALIASES)#/.test(String(value)));
