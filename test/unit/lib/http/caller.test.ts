import { describe, expect, it } from 'vitest';
import { canSee } from '../../../../lib/domain/access.js';
import { AppError } from '../../../../lib/errors.js';
import { callerFromClaims, requireRole } from '../../../../lib/http/caller.js';

const customer = { id: 'c1', resellerId: 'r1' };

describe('callers', () => {
  it('reads each role’s claims and refuses tokens without usable ones as 401', () => {
    expect(callerFromClaims({ role: 'reseller', resellerId: 'r1', sub: 'x' })).toEqual({
      role: 'reseller',
      resellerId: 'r1',
    });
    for (const claims of [
      undefined,
      {},
      { role: 'root' },
      { role: 'customer' },
      { role: 'reseller', resellerId: '' },
    ]) {
      expect(() => callerFromClaims(claims)).toThrow(
        expect.objectContaining({ status: 401, code: 'unauthorized' }),
      );
    }
  });

  it('lets each role see only its scope', () => {
    expect(canSee({ role: 'admin' }, customer)).toBe(true);
    expect(canSee({ role: 'reseller', resellerId: 'r1' }, customer)).toBe(true);
    expect(canSee({ role: 'reseller', resellerId: 'r2' }, customer)).toBe(false);
    expect(canSee({ role: 'reseller', resellerId: 'r1' }, { id: 'c2', resellerId: null })).toBe(
      false,
    );
    expect(canSee({ role: 'customer', customerId: 'c1' }, customer)).toBe(true);
    expect(canSee({ role: 'customer', customerId: 'c2' }, customer)).toBe(false);
    expect(canSee({ role: 'switch' }, customer)).toBe(false);
  });

  it('refuses a role the route does not allow with 403', () => {
    expect(() => requireRole({ role: 'switch' }, ['admin', 'reseller'])).toThrow(AppError);
    expect(() => requireRole({ role: 'admin' }, ['admin'])).not.toThrow();
  });
});
