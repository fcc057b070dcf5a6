import * as z from 'zod';
import { forbidden, notFound, unauthorized } from '../errors.js';

export const roles = ['admin', 'reseller', 'customer', 'switch'] as const;
export type Role = (typeof roles)[number];

const idClaim = z.string().min(1).max(128);

/** The JWT claims the API relies on, whoever signed the token (API Gateway or the local server). */
const claimsSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('admin') }),
  z.object({ role: z.literal('reseller'), resellerId: idClaim }),
  z.object({ role: z.literal('customer'), customerId: idClaim }),
  z.object({ role: z.literal('switch') }),
]);

export type Caller = z.infer<typeof claimsSchema>;

/** Turns the authorizer's claims into a caller; a token without usable claims is 401. */
export function callerFromClaims(claims: unknown): Caller {
  const parsed = claimsSchema.safeParse(claims);
  if (!parsed.success) throw unauthorized('The token does not carry a usable role claim.');
  return parsed.data;
}

export function requireRole(caller: Caller, allowed: readonly Role[]): void {
  if (!allowed.includes(caller.role)) throw forbidden();
}

/** What a customer record must match to be visible to the caller. */
export interface Scoped {
  readonly id: string;
  readonly resellerId: string | null;
}

export function canSee(caller: Caller, customer: Scoped): boolean {
  switch (caller.role) {
    case 'admin':
      return true;
    case 'reseller':
      return customer.resellerId === caller.resellerId;
    case 'customer':
      return customer.id === caller.customerId;
    case 'switch':
      return false;
  }
}

/** Out of scope looks exactly like absent, so existence does not leak across tenants. */
export function assertCanSee<T extends Scoped>(caller: Caller, customer: T | undefined): T {
  if (!customer || !canSee(caller, customer)) throw notFound();
  return customer;
}

/** The caller's identity as a stable string, used to scope idempotency keys. */
export function callerScopeKey(caller: Caller): string {
  switch (caller.role) {
    case 'reseller':
      return `reseller:${caller.resellerId}`;
    case 'customer':
      return `customer:${caller.customerId}`;
    default:
      return caller.role;
  }
}
