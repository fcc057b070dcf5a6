import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  cachedSystemConfig,
  readSystemConfig,
  systemConfigCacheMillis,
} from '../../../../lib/domain/system-config.js';
import type { SystemConfig } from '../../../../lib/schemas/phone-lines.js';
import type { ServiceContext } from '../../../../lib/service-context.js';
import { now, tableName, unitContext } from '../../../fixtures/service-context.js';

const ddb = mockClient(DynamoDBDocumentClient);

const configKey = { pk: 'SYSTEM', sk: 'CONFIG' };
const storedConfig = (aliasAuthentication: string) => ({
  ...configKey,
  entityType: 'systemConfig',
  aliasAuthentication,
  updatedAt: '2026-11-27T09:00:00.000Z',
});

/** The clock the context reads, in epoch milliseconds; each test moves it on. */
let clock: number;
const ctx: ServiceContext = { ...unitContext, now: () => new Date(clock) };
const start = Date.parse(now);

/** The stored configuration GetItem answers from now on. */
/** The cache's answer, a value or a promise, as a promise. */
const ask = async (config: ReturnType<typeof cachedSystemConfig>) => config(ctx);

const stored = (aliasAuthentication: SystemConfig['aliasAuthentication']) =>
  ddb.on(GetCommand).resolves({ Item: storedConfig(aliasAuthentication) });

beforeEach(() => {
  ddb.reset();
  clock = start;
});

describe('readSystemConfig', () => {
  it('answers aliasAuthentication enabled when no configuration is stored', async () => {
    ddb.on(GetCommand).resolves({});

    await expect(readSystemConfig(ctx)).resolves.toEqual({ aliasAuthentication: 'enabled' });
    expect(ddb.calls()).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: tableName,
      Key: configKey,
      ConsistentRead: true,
    });
  });

  it('answers the stored configuration without its keys and bookkeeping', async () => {
    stored('disabled');

    await expect(readSystemConfig(ctx)).resolves.toEqual({ aliasAuthentication: 'disabled' });
  });

  it('refuses a stored configuration of an unknown value', async () => {
    ddb.on(GetCommand).resolves({ Item: storedConfig('sometimes') });

    await expect(readSystemConfig(ctx)).rejects.toThrow();
  });
});

describe('cachedSystemConfig', () => {
  const maxAge = 1_000;

  it('serves the cached value before maxAge without a second read', async () => {
    const config = cachedSystemConfig(maxAge);
    stored('disabled');
    await expect(ask(config)).resolves.toEqual({ aliasAuthentication: 'disabled' });

    // The stored value changes; the cache does not see it yet.
    stored('enabled');
    clock = start + maxAge - 1;

    await expect(ask(config)).resolves.toEqual({ aliasAuthentication: 'disabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
  });

  it('reads again at maxAge, and serves the new value until maxAge after that read', async () => {
    const config = cachedSystemConfig(maxAge);
    stored('disabled');
    await config(ctx);

    stored('enabled');
    clock = start + maxAge;
    await expect(ask(config)).resolves.toEqual({ aliasAuthentication: 'enabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);

    stored('disabled');
    clock = start + 2 * maxAge - 1;
    await expect(ask(config)).resolves.toEqual({ aliasAuthentication: 'enabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);

    clock = start + 5 * maxAge;
    await expect(ask(config)).resolves.toEqual({ aliasAuthentication: 'disabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 3);
    for (const call of ddb.commandCalls(GetCommand)) {
      expect(call.args[0].input).toEqual({
        TableName: tableName,
        Key: configKey,
        ConsistentRead: true,
      });
    }
  });

  it('measures the age from when the read began, so a slow read does not extend it', async () => {
    const config = cachedSystemConfig(maxAge);
    ddb.on(GetCommand).callsFakeOnce(async () => {
      clock = start + maxAge; // the read took a whole maxAge
      return { Item: storedConfig('disabled') };
    });
    await config(ctx);

    stored('enabled');
    await expect(ask(config)).resolves.toEqual({ aliasAuthentication: 'enabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
  });

  it('keeps the SPEC §7 bound by default: a change is read again within 10 seconds', async () => {
    expect(systemConfigCacheMillis).toBeGreaterThan(0);
    expect(systemConfigCacheMillis).toBeLessThanOrEqual(10_000);
    const config = cachedSystemConfig();
    stored('disabled');
    await config(ctx);

    stored('enabled');
    clock = start + systemConfigCacheMillis - 1;
    await expect(ask(config)).resolves.toEqual({ aliasAuthentication: 'disabled' });
    clock = start + systemConfigCacheMillis;
    await expect(ask(config)).resolves.toEqual({ aliasAuthentication: 'enabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
  });

  it('shares one read in flight among concurrent callers', async () => {
    const config = cachedSystemConfig(maxAge);
    let answer: () => void = () => {};
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    ddb.on(GetCommand).callsFake(async () => {
      await answered;
      return { Item: storedConfig('disabled') };
    });

    const callers = Array.from({ length: 5 }, () => config(ctx));
    // One caller arrives later, while the read is still in flight.
    await Promise.resolve();
    clock = start + 10;
    callers.push(config(ctx));
    answer();

    await expect(Promise.all(callers)).resolves.toEqual(
      Array.from({ length: 6 }, () => ({ aliasAuthentication: 'disabled' })),
    );
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);

    // And the shared read filled the cache.
    await expect(ask(config)).resolves.toEqual({ aliasAuthentication: 'disabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
  });

  it('does not cache a failed read: every waiter sees the failure and the next call reads again', async () => {
    const config = cachedSystemConfig(maxAge);
    ddb
      .on(GetCommand)
      .rejectsOnce(new Error('throttled'))
      .resolves({ Item: storedConfig('disabled') });

    const waiters = [config(ctx), config(ctx)];
    for (const waiter of waiters) await expect(waiter).rejects.toThrow('throttled');
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);

    // Same instant: nothing was cached, so it reads again.
    await expect(ask(config)).resolves.toEqual({ aliasAuthentication: 'disabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
    await expect(ask(config)).resolves.toEqual({ aliasAuthentication: 'disabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
  });

  it('keeps separate caches apart', async () => {
    const first = cachedSystemConfig(maxAge);
    const second = cachedSystemConfig(maxAge);
    stored('disabled');
    await first(ctx);

    stored('enabled');
    await expect(ask(second)).resolves.toEqual({ aliasAuthentication: 'enabled' });
    await expect(ask(first)).resolves.toEqual({ aliasAuthentication: 'disabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
  });
});
