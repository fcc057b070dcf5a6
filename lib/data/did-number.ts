import * as z from 'zod';
import { didKinds } from '../schemas/did-batches.js';
import { moneySchema } from '../schemas/dids.js';
import { defineEntity } from './entity.js';
import { availableDidKey, didNumberKey, entityTypes } from './keys.js';

/** Where a DID sits in a batch's inventory: what its available item's key is built from. */
const placeFields = {
  number: z.string(),
  batchId: z.string(),
  kind: z.enum(didKinds),
  country: z.string(),
  /** null without an area. */
  area: z.string().nullable(),
};

/**
 * The registry of a DID (`didNumberKey`), one item per number across every batch: put
 * on condition that it does not exist, it lets a number enter the inventory once. It
 * names the batch and place of the number, so its available item's key follows from it.
 */
const didNumberSchema = z.object({
  ...placeFields,
  status: z.enum(['available']),
  addedAt: z.string(),
});

export const didNumbers = defineEntity({
  type: entityTypes.didNumber,
  schema: didNumberSchema,
  keyOf: (did) => didNumberKey(did.number),
});

/**
 * A number available in a batch's inventory (`availableDidKey`), with its costs: the
 * item offers read by sort-key prefix, written in the same transaction as its registry.
 */
const availableDidSchema = z.object({
  ...placeFields,
  activationCost: moneySchema,
  recurringCost: moneySchema,
  addedAt: z.string(),
});

export const availableDids = defineEntity({
  type: entityTypes.availableDid,
  schema: availableDidSchema,
  keyOf: (did) => availableDidKey(did.batchId, did),
});
