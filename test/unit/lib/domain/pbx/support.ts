import { customerItem } from '../../../../../lib/data/customer.js';
import { branchOf, customer, mainOffice } from '../../../../fixtures/customer-records.js';

/**
 * What the PBX unit tests share besides the mocked document client
 * (test/fixtures/mocked-table.ts, re-exported): the stored items they start from.
 */
export * from '../../../../fixtures/mocked-table.js';

/** Keys spelled out here, not taken from keys.ts, so a change of layout shows. */
export const customerKey = (id: string) => ({ pk: `CUSTOMER#${id}`, sk: 'CUSTOMER' });
export const registryKey = (id: string) => ({ pk: `CUSTOMER#${id}`, sk: 'PBX_NUMBERS' });
export const extensionKey = (owner: string, number: string) => ({
  pk: `CUSTOMER#${owner}`,
  sk: `EXTENSION#${number.length}#${number}`,
});
export const huntGroupKey = (owner: string, number: string) => ({
  pk: `CUSTOMER#${owner}`,
  sk: `HUNT_GROUP#${number.length}#${number}`,
});

export const extensionItem = (
  owner: string,
  number: string,
  extra: Record<string, unknown> = {},
) => ({
  ...extensionKey(owner, number),
  entityType: 'extension',
  number,
  name: `Extension ${number}`,
  ownerId: owner,
  accountNumber: null,
  ...extra,
});

export const huntGroupItem = (
  owner: string,
  number: string,
  members: { number: string; ownerId: string }[],
  extra: Record<string, unknown> = {},
) => ({
  ...huntGroupKey(owner, number),
  entityType: 'huntGroup',
  number,
  name: `Hunt group ${number}`,
  ownerId: owner,
  strategy: 'round_robin',
  members,
  ...extra,
});

export const terminated = {
  status: 'terminated',
  terminatedAt: '2026-11-20T00:00:00.000Z',
  terminatedBy: { reason: 'requested' },
} as const;

/** Standalone c1 and c2, main office hq with branches b1 and b2, all of reseller r1. */
export const offices = () => [
  customerItem(customer('c1')),
  customerItem(customer('c2')),
  customerItem(mainOffice('hq', { hierarchy: { branchCount: 2 } })),
  customerItem(branchOf('b1', 'hq')),
  customerItem(branchOf('b2', 'hq')),
];
