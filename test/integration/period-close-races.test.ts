import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lib/data/client.js';
import { periodCloseKey } from '../../lib/data/keys.js';
import { periodCloses } from '../../lib/data/period-close.js';
import { continuePeriodClose, startPeriodClose } from '../../lib/domain/billing/period-close.js';
import type { ServiceContext } from '../../lib/service-context.js';
import { injectFaults } from './support/faults.js';
import { startTestApi, type TestApi } from './support/local-api.js';

/**
 * The close's chunks driven by hand (no consumer runs here), to interleave two
 * deliveries of one job record: the one that loses must not set the job back.
 */
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ consumers: [] });
});
afterAll(async () => api?.stop());

const contextOf = (): ServiceContext => ({
  db: {
    client: createDocumentClient(api.runtime.dynamodbEndpoint),
    tableName: api.runtime.tableName,
  },
  now: () => new Date(),
  newId: () => `id-${Math.random().toString(36).slice(2)}`,
  didProviders: () => {
    throw new Error('no provider here');
  },
});

const jobOf = async (ctx: ServiceContext, period: string) => {
  const job = await periodCloses.get(ctx.db, periodCloseKey(period));
  if (!job) throw new Error(`no close of ${period}`);
  return job;
};

describe('a job record delivered twice', () => {
  it('advances the job once: a late delivery does not set it back', async () => {
    const late = contextOf();
    const other = contextOf();
    await startPeriodClose(late, '2026-08');
    const first = await jobOf(late, '2026-08');

    // While the late delivery is between its read and its write, another delivery of
    // the same record, and then the next record, run to the end.
    const remove = injectFaults(late.db.client, {
      applies: (command) => command === 'TransactWriteItemsCommand',
      before: async () => {
        await continuePeriodClose(other, first);
        await continuePeriodClose(other, await jobOf(other, '2026-08'));
      },
    });
    try {
      await continuePeriodClose(late, first);
    } finally {
      remove();
    }

    expect(await jobOf(late, '2026-08')).toMatchObject({ status: 'running', shard: 2 });
  });
});
