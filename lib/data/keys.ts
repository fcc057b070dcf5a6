/**
 * Every key and index key of the single table is built here, and nowhere else.
 * Partition prefixes name the entity; `entityType` on each item says the same for
 * stream filters and readers.
 */
export const entityTypes = {
  customer: 'customer',
  idempotencyRecord: 'idempotencyRecord',
  terminationCascade: 'terminationCascade',
  phoneLine: 'phoneLine',
  systemConfig: 'systemConfig',
  extension: 'extension',
  huntGroup: 'huntGroup',
  pbxRegistry: 'pbxRegistry',
  lineCounter: 'lineCounter',
  didBatch: 'didBatch',
  didBatchName: 'didBatchName',
  didNumber: 'didNumber',
  customerDid: 'customerDid',
  charge: 'charge',
  didOrder: 'didOrder',
  invoice: 'invoice',
  consolidationPart: 'consolidationPart',
  billingPeriod: 'billingPeriod',
  periodClose: 'periodClose',
} as const;

export type EntityType = (typeof entityTypes)[keyof typeof entityTypes];

/** The partition of a customer and of everything stored beside it. */
export const customerPartitionPrefix = 'CUSTOMER#';
export const customerKey = (id: string) =>
  ({ pk: `${customerPartitionPrefix}${id}`, sk: 'CUSTOMER' }) as const;

export const idempotencyKey = (digest: string) =>
  ({ pk: `IDEMPOTENCY#${digest}`, sk: 'IDEMPOTENCY' }) as const;

/**
 * Index sort keys are limited to 1,024 bytes; the searchable form is cut to this many
 * (NFKC can make a 200-character name many times longer). Names that share their
 * first 400 bytes still sort apart by id.
 */
const searchableNameBytes = 400;

/** Case- and width-insensitive form of a name (or of a prefix sought), used for prefix search. */
export function searchableName(name: string): string {
  const normalized = name.normalize('NFKC').toLowerCase();
  if (Buffer.byteLength(normalized) <= searchableNameBytes) return normalized;
  let cut = '';
  let bytes = 0;
  for (const codePoint of normalized) {
    bytes += Buffer.byteLength(codePoint);
    if (bytes > searchableNameBytes) break;
    cut += codePoint;
  }
  return cut;
}

/** Sort key of the name-ordered customer indexes: name first, id to break ties. */
export const customerNameSort = (name: string, id: string): string =>
  `${searchableName(name)}#${id}`;

export const resellerPartition = (resellerId: string): string => `RESELLER#${resellerId}`;

/**
 * The platform-wide lists (every customer; every active main office) are spread over
 * this many index partitions by customer id, so no one partition takes every
 * customer's writes; a page of such a list merges one query per shard (README, Scale).
 */
export const customerListShardCount = 16;

export const allCustomersPartition = 'CUSTOMERS';

export const mainOfficesPartition = 'MAIN_OFFICES';

/** The index partition of one shard of a platform-wide list. */
export const customerListShard = (list: string, shard: number): string => `${list}#${shard}`;

export const resellerMainOfficesPartition = (resellerId: string): string =>
  `MAIN_OFFICES#RESELLER#${resellerId}`;

export const branchesPartition = (mainOfficeId: string): string => `BRANCHES#${mainOfficeId}`;

/** A DID pricing batch (lib/data/did-batch.ts); its inventory lives in the same partition. */
export const didBatchKey = (id: string) => ({ pk: `DID_BATCH#${id}`, sk: 'DID_BATCH' }) as const;

/** The termination cascade of a main office: one job item beside the customer, advanced chunk by chunk. */
export const terminationCascadeKey = (mainOfficeId: string) =>
  ({ pk: `${customerPartitionPrefix}${mainOfficeId}`, sk: 'TERMINATION_CASCADE' }) as const;

/**
 * One registry item per phone number, accounts and aliases alike: its conditional put
 * keeps a number an account or an alias, never both, across all customers; the
 * switch-facing calls read only this item.
 */
export const phoneLineKey = (number: string) => ({ pk: `PHONE#${number}`, sk: 'LINE' }) as const;
/** Owner partitions of the `linesByOwner` index. */
export const customerAccountsPartition = (customerId: string) => `ACCOUNTS#${customerId}`;
export const accountAliasesPartition = (accountNumber: string) => `ALIASES#${accountNumber}`;

export const systemConfigKey = { pk: 'SYSTEM', sk: 'CONFIG' } as const;

/** How many phone lines a customer has ever been given: lets the termination effect check it saw them all. */
export const customerLineCountKey = (customerId: string) =>
  ({ pk: `${customerPartitionPrefix}${customerId}`, sk: 'LINE_COUNT' }) as const;

export type PbxKind = 'extension' | 'huntGroup';
const pbxPrefix: Record<PbxKind, string> = { extension: 'EXTENSION#', huntGroup: 'HUNT_GROUP#' };

/** Sort key of a PBX item: the length first, so numbers list in numeric order ("9" before "10"). */
export const pbxSortKey = (kind: PbxKind, number: string) =>
  `${pbxPrefix[kind]}${number.length}#${number}`;
export const pbxSortPrefix = (kind: PbxKind) => pbxPrefix[kind];

export const pbxItemKey = (customerId: string, kind: PbxKind, number: string) =>
  ({ pk: `${customerPartitionPrefix}${customerId}`, sk: pbxSortKey(kind, number) }) as const;

/**
 * A customer's PBX number registry: `own` (its numbers) and, when it is the root of a
 * group of offices (a main office, or a customer in no hierarchy), `reserved`: every
 * number in use in the group. Conditional updates of `reserved` keep numbers unique
 * across the group; `revision` changes with every write, so a link can be
 * conditioned on the sets it read.
 */
export const pbxRegistryKey = (customerId: string) =>
  ({ pk: `${customerPartitionPrefix}${customerId}`, sk: 'PBX_NUMBERS' }) as const;

/**
 * The names of DID batches: one registry item per name, its sort key the name case-
 * and width-folded (`searchableName`), so its conditional put keeps names unique however
 * they are spelled. It carries what the list of batches shows, so that list is one
 * Query per page of this one partition, in name order. One partition is enough:
 * batches are created rarely (an operator adds a few a month), far below the ~1,000
 * writes per second a partition takes.
 */
export const didBatchNamesPartition = 'DID_BATCH_NAMES';
export const didBatchNameKey = (name: string) =>
  ({ pk: didBatchNamesPartition, sk: searchableName(name) }) as const;

/**
 * One item per DID, whatever its batch and state: its conditional writes let a number
 * enter the inventory once and belong to one customer at a time. While it is
 * available it carries the `availableDids` index keys (its batch, and its place
 * below), so the offers of a batch are one Query that reads only available numbers.
 */
export const didNumberKey = (number: string) => ({ pk: `DID#${number}`, sk: 'DID' }) as const;

/** What a DID's place in its batch is made of. */
export interface DidPlace {
  readonly number: string;
  readonly kind: string;
  readonly country: string;
  readonly area: string | null;
}

/**
 * Sort key of an available DID in the `availableDids` index: kind, country and area
 * (`-` without one; areas are letters and digits, so `#` never occurs inside a part),
 * then the number. Offers filter by a prefix of it (`didPlacePrefix`).
 */
export const didPlaceSort = (place: DidPlace): string =>
  `${place.kind}#${place.country}#${place.area ?? '-'}#${place.number}`;
export const didPlacePrefix = (filter: {
  readonly kind: string;
  readonly country: string;
  readonly area?: string | undefined;
}): string =>
  `${filter.kind}#${filter.country}#${filter.area === undefined ? '' : `${filter.area}#`}`;

/** A DID a customer holds, beside the customer: its numbers list and are released with one strongly consistent Query. */
export const customerDidSortPrefix = 'DID#';
export const customerDidKey = (customerId: string, number: string) =>
  ({
    pk: `${customerPartitionPrefix}${customerId}`,
    sk: `${customerDidSortPrefix}${number}`,
  }) as const;

/** A charge (§9), beside its customer; ids are ULIDs, so a customer's charges sort by the time they were recorded. */
export const chargeKey = (customerId: string, chargeId: string) =>
  ({ pk: `${customerPartitionPrefix}${customerId}`, sk: `CHARGE#${chargeId}` }) as const;

/**
 * The recorded intent of one provider order (lib/data/did-order.ts): written before the
 * provider is called, completed with the assignment, or compensated from the stream.
 */
export const didOrderKey = (orderId: string) =>
  ({ pk: `DID_ORDER#${orderId}`, sk: 'DID_ORDER' }) as const;

/** A customer's invoice of one period (`YYYY-MM`), beside the customer; its invoices list with one Query. */
export const invoiceSortPrefix = 'INVOICE#';
export const invoiceKey = (customerId: string, period: string) =>
  ({
    pk: `${customerPartitionPrefix}${customerId}`,
    sk: `${invoiceSortPrefix}${period}`,
  }) as const;

/**
 * Billing state that every charge would otherwise funnel into one item is written to
 * one of this many partitions, chosen by the customer id: the closed flag of a
 * period, and the branches' parts of a consolidated invoice (README, §9).
 */
export const billingShardCount = 16;

/** The shard of an id among `count`: FNV-1a of its characters, so it never changes. */
export const shardOf = (id: string, count: number): number => {
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index++) {
    hash ^= id.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
};

/** The billing shard of a customer id. */
export const billingShardOf = (customerId: string): number =>
  shardOf(customerId, billingShardCount);

/** One shard of a billing period's state: `closedAt` once the period is closed. */
export const billingPeriodKey = (period: string, shard: number) =>
  ({ pk: `BILLING_PERIOD#${period}#${shard}`, sk: 'BILLING_PERIOD' }) as const;

/** A branch's part of its main office's consolidated invoice of one period. */
export const consolidationPartition = (mainOfficeId: string, period: string, shard: number) =>
  `CONSOLIDATED#${mainOfficeId}#${period}#${shard}`;
export const consolidationPartKey = (mainOfficeId: string, period: string, branchId: string) =>
  ({
    pk: consolidationPartition(mainOfficeId, period, billingShardOf(branchId)),
    sk: `BRANCH#${branchId}`,
  }) as const;

/** The `assignedDids` index keys of a customer's DID: one of the shards by number, then customer and number. */
export const assignedDidsPartition = (shard: number) => `ASSIGNED_DIDS#${shard}`;
export const assignedDidsIndexKeys = (customerId: string, number: string) => ({
  assignedDidsPk: assignedDidsPartition(billingShardOf(number)),
  assignedDidsSk: `${customerId}#${number}`,
});

/** The monthly close of one period (§9): a chunked job advanced through the stream. */
export const periodCloseKey = (period: string) =>
  ({ pk: `PERIOD_CLOSE#${period}`, sk: 'PERIOD_CLOSE' }) as const;
