import * as z from 'zod';
import { pageOf, paginationQuery, timestampSchema } from './common.js';

/** E.164: '+', then 8 to 15 digits, the first not 0 (§1). */
export const e164Schema = z
  .string()
  .regex(/^\+[1-9]\d{7,14}$/, 'must be an E.164 number: + then 8 to 15 digits, the first not 0')
  .meta({ description: 'E.164 phone number', example: '+4930123456' });

export const aliasPolicies = ['system', 'enabled', 'disabled'] as const;
export const aliasPolicySchema = z.enum(aliasPolicies);

export const accountSchema = z
  .object({ number: z.string(), customerId: z.string(), createdAt: timestampSchema })
  .meta({ id: 'Account' });
export type Account = z.infer<typeof accountSchema>;

export const effectivePolicySchema = z
  .object({
    canRegister: z.boolean(),
    source: z
      .enum(['alias', 'system'])
      .meta({ description: 'alias: its own setting; system: the system configuration' }),
  })
  .meta({ id: 'EffectiveAliasPolicy' });

export const aliasSchema = z
  .object({
    number: z.string(),
    accountNumber: z.string(),
    customerId: z.string(),
    authentication: aliasPolicySchema,
    effective: effectivePolicySchema,
  })
  .meta({ id: 'Alias' });
export type Alias = z.infer<typeof aliasSchema>;

export const numberParams = z.strictObject({ number: e164Schema });
export const listQuery = z.strictObject(paginationQuery);

export const createAccountBody = z
  .strictObject({ number: e164Schema })
  .meta({ id: 'CreateAccount' });
export const createAliasBody = z
  .strictObject({ number: e164Schema, authentication: aliasPolicySchema.optional() })
  .meta({
    id: 'CreateAlias',
    description: 'Without authentication the alias takes the customer’s aliasAuthDefault',
  });
export const patchAliasBody = z
  .strictObject({ authentication: aliasPolicySchema })
  .meta({ id: 'PatchAlias' });

export const systemConfigSchema = z
  .object({ aliasAuthentication: z.enum(['enabled', 'disabled']) })
  .meta({ id: 'SystemConfig', description: 'What a `system` alias resolves to' });
export type SystemConfig = z.infer<typeof systemConfigSchema>;
export const patchSystemConfigBody = z
  .strictObject({ aliasAuthentication: z.enum(['enabled', 'disabled']) })
  .meta({ id: 'PatchSystemConfig' });

export const authorizeBody = z
  .strictObject({ username: z.string().min(1).max(64) })
  .meta({ id: 'SipAuthorizeRequest' });
export const authorizationSchema = z
  .object({
    allowed: z.boolean(),
    aliasOf: z
      .string()
      .nullable()
      .meta({ description: 'The main account when username is an alias' }),
    chargedAccountNumber: z.string().nullable().meta({ description: 'Always the main account' }),
    reason: z
      .enum(['alias_registration_disabled', 'customer_terminated', 'unknown_username'])
      .optional(),
  })
  .meta({ id: 'SipAuthorization' });
export type Authorization = z.infer<typeof authorizationSchema>;

export const routingSchema = z
  .object({ number: z.string(), ringAccountNumber: z.string(), viaAlias: z.boolean() })
  .meta({ id: 'Routing' });
export type Routing = z.infer<typeof routingSchema>;

export const accountPage = pageOf(accountSchema, 'AccountPage');
export const aliasPage = pageOf(aliasSchema, 'AliasPage');
