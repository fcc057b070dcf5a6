/**
 * The one table of the system. CDK (infra/stacks/stateful-stack.ts) and the local
 * runtime (infra/local/engine.ts) both build the table from this definition, so
 * the keys and indexes can never drift apart.
 */
export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

export interface TableDefinition {
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly globalIndexes: readonly IndexDefinition[];
  /** Items carrying this attribute (epoch seconds) expire: idempotency records, and DID order intents (whose expiry repairs them). */
  readonly timeToLiveAttribute: string;
  readonly streamView: 'NEW_AND_OLD_IMAGES';
}

export const tableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  globalIndexes: [
    // Customers of one reseller (or of no reseller) sorted by name: the reseller's list.
    { name: 'byReseller', partitionKey: 'resellerPk', sortKey: 'nameSk' },
    // Every customer sorted by name: the admin's list. One partition per index key is
    // fine for customer records (created and renamed rarely); see README "Hot partitions".
    { name: 'byName', partitionKey: 'allPk', sortKey: 'nameSk' },
    // Sparse: only active main offices with the hierarchy enabled. The "Main office"
    // dropdown of a reseller, and of an admin, each one query per page.
    { name: 'mainOfficesByReseller', partitionKey: 'mainOfficeResellerPk', sortKey: 'nameSk' },
    { name: 'mainOffices', partitionKey: 'mainOfficeAllPk', sortKey: 'nameSk' },
    // Sparse: the branches of one main office by name, however many there are.
    { name: 'branchesByMainOffice', partitionKey: 'mainOfficePk', sortKey: 'nameSk' },
    // Phone lines by owner: a customer's accounts, and an account's aliases.
    { name: 'linesByOwner', partitionKey: 'ownerPk', sortKey: 'number' },
    // Sparse: the available DIDs of one batch by kind, country, area and number (offers).
    { name: 'availableDids', partitionKey: 'availableIn', sortKey: 'availablePlace' },
    // Every DID some customer holds, in 16 partitions by number: what the monthly close charges.
    { name: 'assignedDids', partitionKey: 'assignedDidsPk', sortKey: 'assignedDidsSk' },
  ],
  timeToLiveAttribute: 'expiresAt',
  streamView: 'NEW_AND_OLD_IMAGES',
} as const satisfies TableDefinition;

export type IndexName = (typeof tableDefinition.globalIndexes)[number]['name'];
