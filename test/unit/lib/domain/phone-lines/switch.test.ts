import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { authorize, route } from '../../../../../lib/domain/phone-lines/switch.js';
import type { ServiceContext } from '../../../../../lib/service-context.js';
import { now, unitContext } from '../../../../fixtures/service-context.js';
import {
  accountLine,
  accountNumber,
  aliasLine,
  aliasNumber,
  configKey,
  ddb,
  gets,
  lineKey,
  store,
  storedConfig,
  unknownNumber,
} from './support.js';

/**
 * The switch's cached system configuration lives as long as the module: each test
 * starts a minute after the one before, so what an earlier test cached has expired.
 */
let clock = Date.parse(now);
const ctx: ServiceContext = { ...unitContext, now: () => new Date(clock) };
beforeEach(() => {
  clock += 60_000;
});

const systemSays = (aliasAuthentication: 'enabled' | 'disabled') =>
  store(storedConfig(aliasAuthentication, 2));

describe('authorize', () => {
  it('reads the number’s line, and the system configuration once per cache period', async () => {
    store(aliasLine(aliasNumber, accountNumber, 'system'));
    systemSays('disabled');

    const answers = await Promise.all([authorize(ctx, aliasNumber), authorize(ctx, aliasNumber)]);
    systemSays('enabled');
    clock += 4_999;
    answers.push(await authorize(ctx, aliasNumber));

    expect(answers.map((answer) => answer.reason)).toEqual([
      'alias_registration_disabled',
      'alias_registration_disabled',
      'alias_registration_disabled',
    ]);
    expect(gets().filter((key) => key?.pk === 'SYSTEM')).toEqual([configKey]);
    expect(gets().filter((key) => key?.pk !== 'SYSTEM')).toEqual([
      lineKey(aliasNumber),
      lineKey(aliasNumber),
      lineKey(aliasNumber),
    ]);
    for (const call of ddb.commandCalls(GetCommand)) {
      expect(call.args[0].input.ConsistentRead).toBe(true);
    }

    // Within the 10 seconds §7 allows, a change shows.
    clock += 1;
    await expect(authorize(ctx, aliasNumber)).resolves.toMatchObject({ allowed: true });
  });

  it('answers an unknown username as unknown, charging nobody', async () => {
    await expect(authorize(ctx, unknownNumber)).resolves.toStrictEqual({
      allowed: false,
      aliasOf: null,
      chargedAccountNumber: null,
      reason: 'unknown_username',
    });
  });

  it.each([
    'alice',
    '4930100000',
    '+0301000000',
    '+4930123',
    '+1234567890123456',
    '+4930100000 ',
    '+49 30 100000',
  ])('answers the non-E.164 username %j as unknown without reading its line', async (username) => {
    store(accountLine(accountNumber));

    await expect(authorize(ctx, username)).resolves.toStrictEqual({
      allowed: false,
      aliasOf: null,
      chargedAccountNumber: null,
      reason: 'unknown_username',
    });
    expect(gets()).toEqual([configKey]);
  });

  it.each(['enabled', 'disabled'] as const)(
    'allows an account, charging itself, whatever the system says (%s)',
    async (system) => {
      store(accountLine(accountNumber));
      systemSays(system);

      await expect(authorize(ctx, accountNumber)).resolves.toStrictEqual({
        allowed: true,
        aliasOf: null,
        chargedAccountNumber: accountNumber,
      });
    },
  );

  it.each([
    ['enabled', 'enabled'],
    ['enabled', 'disabled'],
    ['system', 'enabled'],
    [undefined, 'enabled'],
  ] as const)(
    'allows an alias that may register (%s, system %s), charging its account',
    async (authentication, system) => {
      store(aliasLine(aliasNumber, accountNumber, authentication));
      systemSays(system);

      await expect(authorize(ctx, aliasNumber)).resolves.toStrictEqual({
        allowed: true,
        aliasOf: accountNumber,
        chargedAccountNumber: accountNumber,
      });
    },
  );

  it('follows the default configuration (aliases may register) when none is stored', async () => {
    store(aliasLine(aliasNumber, accountNumber, 'system'));

    await expect(authorize(ctx, aliasNumber)).resolves.toMatchObject({ allowed: true });
  });

  it.each([
    ['disabled', 'enabled'],
    ['disabled', 'disabled'],
    ['system', 'disabled'],
    [undefined, 'disabled'],
  ] as const)(
    'refuses an alias that may not register (%s, system %s) as alias_registration_disabled',
    async (authentication, system) => {
      store(aliasLine(aliasNumber, accountNumber, authentication));
      systemSays(system);

      await expect(authorize(ctx, aliasNumber)).resolves.toStrictEqual({
        allowed: false,
        aliasOf: accountNumber,
        chargedAccountNumber: accountNumber,
        reason: 'alias_registration_disabled',
      });
    },
  );

  it('refuses an account of a terminated customer as customer_terminated', async () => {
    store(accountLine(accountNumber, { customerStatus: 'terminated' }));

    await expect(authorize(ctx, accountNumber)).resolves.toStrictEqual({
      allowed: false,
      aliasOf: null,
      chargedAccountNumber: accountNumber,
      reason: 'customer_terminated',
    });
  });

  it.each(['enabled', 'disabled', 'system'] as const)(
    'refuses an alias (%s) of a terminated customer as customer_terminated',
    async (authentication) => {
      store(
        aliasLine(aliasNumber, accountNumber, authentication, { customerStatus: 'terminated' }),
      );

      await expect(authorize(ctx, aliasNumber)).resolves.toStrictEqual({
        allowed: false,
        aliasOf: accountNumber,
        chargedAccountNumber: accountNumber,
        reason: 'customer_terminated',
      });
    },
  );
});

describe('route', () => {
  it('rings an account itself, not via an alias, reading only its line (the configuration cached)', async () => {
    store(accountLine(accountNumber));
    await route(ctx, accountNumber);
    ddb.resetHistory();

    await expect(route(ctx, accountNumber)).resolves.toStrictEqual({
      number: accountNumber,
      ringAccountNumber: accountNumber,
      viaAlias: false,
    });
    expect(gets()).toEqual([lineKey(accountNumber)]);
  });

  it.each([
    ['disabled', 'enabled'],
    ['system', 'disabled'],
  ] as const)('rings the account for a %s alias (system %s)', async (authentication, system) => {
    store(aliasLine(aliasNumber, accountNumber, authentication));
    systemSays(system);

    await expect(route(ctx, aliasNumber)).resolves.toStrictEqual({
      number: aliasNumber,
      ringAccountNumber: accountNumber,
      viaAlias: true,
    });
  });

  it.each([
    ['enabled', 'disabled'],
    ['system', 'enabled'],
  ] as const)('rings a %s alias itself (system %s)', async (authentication, system) => {
    store(aliasLine(aliasNumber, accountNumber, authentication));
    systemSays(system);

    await expect(route(ctx, aliasNumber)).resolves.toStrictEqual({
      number: aliasNumber,
      ringAccountNumber: aliasNumber,
      viaAlias: true,
    });
  });

  it('answers 404 not_found for a number that is neither', async () => {
    await expect(route(ctx, unknownNumber)).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
  });

  it('answers 409 customer_terminated for an account or alias of a terminated customer', async () => {
    store(
      accountLine(accountNumber, { customerStatus: 'terminated' }),
      aliasLine(aliasNumber, accountNumber, 'enabled', { customerStatus: 'terminated' }),
    );

    for (const number of [accountNumber, aliasNumber]) {
      await expect(route(ctx, number)).rejects.toMatchObject({
        status: 409,
        code: 'customer_terminated',
      });
    }
  });
});
