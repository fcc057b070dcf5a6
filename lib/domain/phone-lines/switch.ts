import { readPhoneLine } from '../../data/phone-line.js';
import { customerTerminated, notFound } from '../../errors.js';
import { type Authorization, e164Schema, type Routing } from '../../schemas/phone-lines.js';
import type { ServiceContext } from '../../service-context.js';
import { effectivePolicy } from './alias-policy.js';
import { cachedSystemConfig } from './system-config.js';

// The switch-facing calls: one GetItem each, the system configuration from a cache.

const switchSystemConfig = cachedSystemConfig();

/** POST /sip/authorize: may this username register, and which account pays. */
export async function authorize(ctx: ServiceContext, username: string): Promise<Authorization> {
  const [line, config] = await Promise.all([
    // Only a phone number can be a line: anything else is unknown without a read.
    e164Schema.safeParse(username).success ? readPhoneLine(ctx.db, username) : undefined,
    switchSystemConfig(ctx),
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
export async function route(ctx: ServiceContext, number: string): Promise<Routing> {
  const [line, config] = await Promise.all([
    readPhoneLine(ctx.db, number),
    switchSystemConfig(ctx),
  ]);
  if (!line) throw notFound(`${number} is neither an account nor an alias.`);
  if (line.customerStatus === 'terminated') throw customerTerminated(line.customerId);
  if (line.kind === 'account') return { number, ringAccountNumber: number, viaAlias: false };
  const ringsItself = effectivePolicy(line, config).canRegister;
  return { number, ringAccountNumber: ringsItself ? number : line.accountNumber, viaAlias: true };
}
