import * as z from 'zod';
import type { Caller, Role } from '../domain/access.js';
import { forbidden, unauthorized } from '../errors.js';

const idClaim = z.string().min(1).max(128);

/** The JWT claims the API relies on, whoever signed the token (API Gateway or the local server). */
const claimsSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('admin') }),
  z.object({ role: z.literal('reseller'), resellerId: idClaim }),
  z.object({ role: z.literal('customer'), customerId: idClaim }),
  z.object({ role: z.literal('switch') }),
]);

/** Turns the authorizer's claims into a caller; a token without usable claims is 401. */
export function callerFromClaims(claims: unknown): Caller {
  const parsed = claimsSchema.safeParse(claims);
  if (!parsed.success) throw unauthorized('The token does not carry a usable role claim.');
  return parsed.data satisfies Caller;
}

/** A role that may never use the route is 403 (§2), before anything is read. */
export function requireRole(caller: Caller, allowed: readonly Role[]): void {
  if (!allowed.includes(caller.role)) throw forbidden();
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
