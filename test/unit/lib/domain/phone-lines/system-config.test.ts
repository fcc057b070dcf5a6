import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseIfMatch } from '../../../../../lib/data/versioning.js';
import {
  cachedSystemConfig,
  getSystemConfig,
  patchSystemConfig,
  readSystemConfig,
  systemConfigCacheMillis,
} from '../../../../../lib/domain/phone-lines/system-config.js';
import type { SystemConfig } from '../../../../../lib/schemas/phone-lines.js';
import type { ServiceContext } from '../../../../../lib/service-context.js';
import { namesIn, valuesIn } from '../../../../fixtures/command-inputs.js';
import { conditionFailed } from '../../../../fixtures/dynamodb-errors.js';
import { noIfMatch, now, unitContext } from '../../../../fixtures/service-context.js';
import { configKey, ddb, gets, storedConfig } from './support.js';

/** The clock the context reads, in epoch milliseconds; each test moves it on. */
let clock: number;
const ctx: ServiceContext = { ...unitContext, now: () => new Date(clock) };
const start = Date.parse(now);

beforeEach(() => {
  clock = start;
});

/** The stored configuration GetItem answers from now on. */
const stored = (aliasAuthentication: SystemConfig['aliasAuthentication']) =>
  ddb.on(GetCommand).resolves({ Item: storedConfig(aliasAuthentication, 3) });

/** The cache's answer, a value or a promise, as a promise. */
const ask = async (config: ReturnType<typeof cachedSystemConfig>) => config(ctx);

describe('getSystemConfig', () => {
  it('answers aliasAuthentication enabled, version 1, when no configuration is stored', async () => {
    await expect(getSystemConfig(ctx)).resolves.toStrictEqual({
      config: { aliasAuthentication: 'enabled' },
      etag: '"1"',
    });
    expect(gets()).toEqual([configKey]);
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });

  it('answers the stored configuration without its keys and bookkeeping, its version as ETag', async () => {
    stored('disabled');

    await expect(getSystemConfig(ctx)).resolves.toStrictEqual({
      config: { aliasAuthentication: 'disabled' },
      etag: '"3"',
    });
  });

  it('answers ETag "1" for a configuration stored before versions', async () => {
    ddb.on(GetCommand).resolves({ Item: storedConfig('disabled') });

    await expect(getSystemConfig(ctx)).resolves.toMatchObject({ etag: '"1"' });
  });

  it('refuses a stored configuration of an unknown value', async () => {
    ddb.on(GetCommand).resolves({ Item: storedConfig('sometimes') });

    await expect(readSystemConfig(ctx)).rejects.toThrow();
  });
});

describe('patchSystemConfig', () => {
  const written = (version: number) => ({
    Attributes: { ...storedConfig('disabled', version), updatedAt: now },
  });

  it('writes the configuration in one UpdateItem, typed and timestamped, answering the version written', async () => {
    ddb.on(UpdateCommand).resolves(written(4));

    await expect(
      patchSystemConfig(ctx, { aliasAuthentication: 'disabled' }, noIfMatch),
    ).resolves.toStrictEqual({ config: { aliasAuthentication: 'disabled' }, etag: '"4"' });

    expect(ddb.calls()).toHaveLength(1);
    const [update] = ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(update?.Key).toEqual(configKey);
    expect(update?.ReturnValues).toBe('ALL_NEW');
    expect(namesIn(update)).toEqual(
      expect.arrayContaining(['aliasAuthentication', 'updatedAt', 'version', 'entityType']),
    );
    expect(valuesIn(update)).toEqual(expect.arrayContaining(['disabled', 'systemConfig', now]));
  });

  it.each([
    ['its ETag', '"3"'],
    ['a list holding its ETag', '"1", "3"'],
    ['*', '*'],
  ])('writes when If-Match is %s', async (_label, header) => {
    ddb.on(UpdateCommand).resolves(written(4));

    await expect(
      patchSystemConfig(ctx, { aliasAuthentication: 'disabled' }, parseIfMatch(header)),
    ).resolves.toMatchObject({ etag: '"4"' });
  });

  it('answers 412 precondition_failed when the write’s If-Match condition fails', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed(storedConfig('enabled', 5)));

    await expect(
      patchSystemConfig(ctx, { aliasAuthentication: 'disabled' }, parseIfMatch('"3"')),
    ).rejects.toMatchObject({ status: 412, code: 'precondition_failed' });
    expect(ddb.calls()).toHaveLength(1);
  });

  it.each([
    ['its ETag', '"3"'],
    ['*', '*'],
    ['absent', undefined],
  ])(
    'answers the stored configuration and its ETag when If-Match is %s and the value is the one stored: the write’s change condition failed',
    async (_label, header) => {
      ddb.on(UpdateCommand).rejects(conditionFailed(storedConfig('disabled', 3)));

      await expect(
        patchSystemConfig(ctx, { aliasAuthentication: 'disabled' }, parseIfMatch(header)),
      ).resolves.toStrictEqual({ config: { aliasAuthentication: 'disabled' }, etag: '"3"' });
      expect(ddb.calls()).toHaveLength(1);
    },
  );

  it('answers the default configuration, ETag "1", for its own value before any was stored', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());

    await expect(
      patchSystemConfig(ctx, { aliasAuthentication: 'enabled' }, parseIfMatch('"1"')),
    ).resolves.toStrictEqual({ config: { aliasAuthentication: 'enabled' }, etag: '"1"' });
  });

  it.each([
    ['the one stored', storedConfig('disabled', 3), '"2"'],
    ['the default, before any was stored', undefined, '"2"'],
  ])(
    'answers 412 precondition_failed for a stale If-Match even when the value is %s',
    async (_label, was, header) => {
      ddb.on(UpdateCommand).rejects(conditionFailed(was));

      await expect(
        patchSystemConfig(
          ctx,
          { aliasAuthentication: was ? 'disabled' : 'enabled' },
          parseIfMatch(header),
        ),
      ).rejects.toMatchObject({ status: 412, code: 'precondition_failed' });
    },
  );
});

describe('cachedSystemConfig', () => {
  const maxAge = 1_000;

  it('serves the cached value before maxAge without a second read', async () => {
    const config = cachedSystemConfig(maxAge);
    stored('disabled');
    await expect(ask(config)).resolves.toMatchObject({ aliasAuthentication: 'disabled' });

    // The stored value changes; the cache does not see it yet.
    stored('enabled');
    clock = start + maxAge - 1;

    await expect(ask(config)).resolves.toMatchObject({ aliasAuthentication: 'disabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
  });

  it('reads again at maxAge, and serves the new value until maxAge after that read', async () => {
    const config = cachedSystemConfig(maxAge);
    stored('disabled');
    await config(ctx);

    stored('enabled');
    clock = start + maxAge;
    await expect(ask(config)).resolves.toMatchObject({ aliasAuthentication: 'enabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);

    stored('disabled');
    clock = start + 2 * maxAge - 1;
    await expect(ask(config)).resolves.toMatchObject({ aliasAuthentication: 'enabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);

    clock = start + 5 * maxAge;
    await expect(ask(config)).resolves.toMatchObject({ aliasAuthentication: 'disabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 3);
    expect(gets()).toEqual([configKey, configKey, configKey]);
  });

  it('measures the age from when the read began, so a slow read does not extend it', async () => {
    const config = cachedSystemConfig(maxAge);
    ddb.on(GetCommand).callsFakeOnce(async () => {
      clock = start + maxAge; // the read took a whole maxAge
      return { Item: storedConfig('disabled') };
    });
    await config(ctx);

    stored('enabled');
    await expect(ask(config)).resolves.toMatchObject({ aliasAuthentication: 'enabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
  });

  it('keeps the §7 bound by default: a change is read again within 10 seconds', async () => {
    expect(systemConfigCacheMillis).toBeGreaterThan(0);
    expect(systemConfigCacheMillis).toBeLessThanOrEqual(10_000);
    const config = cachedSystemConfig();
    stored('disabled');
    await config(ctx);

    stored('enabled');
    clock = start + systemConfigCacheMillis - 1;
    await expect(ask(config)).resolves.toMatchObject({ aliasAuthentication: 'disabled' });
    clock = start + systemConfigCacheMillis;
    await expect(ask(config)).resolves.toMatchObject({ aliasAuthentication: 'enabled' });
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

    const answers = await Promise.all(callers);
    expect(answers.map((value) => value.aliasAuthentication)).toEqual(
      Array.from({ length: 6 }, () => 'disabled'),
    );
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);

    // And the shared read filled the cache.
    await expect(ask(config)).resolves.toMatchObject({ aliasAuthentication: 'disabled' });
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
    await expect(ask(config)).resolves.toMatchObject({ aliasAuthentication: 'disabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
    await expect(ask(config)).resolves.toMatchObject({ aliasAuthentication: 'disabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
  });

  it('keeps separate caches apart', async () => {
    const first = cachedSystemConfig(maxAge);
    const second = cachedSystemConfig(maxAge);
    stored('disabled');
    await first(ctx);

    stored('enabled');
    await expect(ask(second)).resolves.toMatchObject({ aliasAuthentication: 'enabled' });
    await expect(ask(first)).resolves.toMatchObject({ aliasAuthentication: 'disabled' });
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
  });
});
