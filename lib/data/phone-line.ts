import * as z from 'zod';
import { aliasPolicySchema } from '../schemas/phone-lines.js';
import type { Db } from './client.js';
import { defineEntity } from './entity.js';
import {
  accountAliasesPartition,
  customerAccountsPartition,
  entityTypes,
  phoneLineKey,
} from './keys.js';
import { decodeCursor, type Page, pageFrom } from './pagination.js';
import { queryItems } from './table.js';

/**
 * The phone line registry (§7): one item per phone number, keyed by the number
 * alone (`phoneLineKey`), whether the number is an account or an alias. Because both
 * kinds are the same item type under the same key, putting a line on the condition
 * that its item does not exist yet is what makes a number an account or an alias,
 * never both, across all customers: a second registration of the number, as either
 * kind and for any customer, meets the first one's item. The switch-facing calls read
 * only this item, so it carries what they need: the main account and the customer's
 * status (copied when the customer is terminated).
 */
const phoneLineSchema = z.object({
  number: z.string(),
  kind: z.enum(['account', 'alias']),
  customerId: z.string(),
  /** The customer's reseller, copied so a read of the line alone can check scope. */
  resellerId: z.string().nullable(),
  /** The main account: the account itself, or the account an alias belongs to. */
  accountNumber: z.string(),
  /** Aliases only. */
  authentication: aliasPolicySchema.optional(),
  /** Set to terminated by the termination effect (lib/domain/phone-lines/terminated-customer-lines.ts). */
  customerStatus: z.enum(['active', 'terminated']),
  createdAt: z.string(),
  /** Bumped by every write; lines written before versions existed have none and count as 1. */
  version: z.number().int().min(1).default(1),
});
export type PhoneLine = z.infer<typeof phoneLineSchema>;

/** The `linesByOwner` partition a line lists under: its customer's accounts, or its account's aliases. */
const ownerPartitionOf = (line: PhoneLine): string =>
  line.kind === 'account'
    ? customerAccountsPartition(line.customerId)
    : accountAliasesPartition(line.accountNumber);

export const phoneLines = defineEntity({
  type: entityTypes.phoneLine,
  schema: phoneLineSchema,
  keyOf: (line) => phoneLineKey(line.number),
  derived: (line) => ({ ownerPk: ownerPartitionOf(line) }),
});

/** Strongly consistent read of a number's line, or undefined when it is neither an account nor an alias. */
export const readPhoneLine = (db: Db, number: string): Promise<PhoneLine | undefined> =>
  phoneLines.get(db, phoneLineKey(number));

const linePageKey = ['pk', 'sk', 'ownerPk', 'number'];

/**
 * One page of the lines listed under an owner partition (`linesByOwner`, by number).
 * The index is eventually consistent: a line registered a moment ago may not show yet.
 */
export async function readLinesOf(
  db: Db,
  ownerPartition: string,
  page: { readonly limit: number; readonly cursor?: string },
): Promise<Page<PhoneLine>> {
  const startKey = page.cursor
    ? decodeCursor(
        page.cursor,
        linePageKey,
        { attribute: 'ownerPk', value: ownerPartition },
        (key) => key.pk === phoneLineKey(key.number ?? '').pk && key.sk === phoneLineKey('').sk,
      )
    : undefined;
  const { items } = await queryItems(db, {
    index: 'linesByOwner',
    key: { partition: ['ownerPk', ownerPartition] },
    limit: page.limit + 1,
    startKey,
  });
  return pageFrom(items, page.limit, linePageKey, phoneLines.parse);
}
