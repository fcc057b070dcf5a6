import { describe, expect, it } from 'vitest';
import { billingPeriods } from '../../../../../lib/data/invoice.js';
import {
  billingPeriodKey,
  billingShardCount,
  periodCloseKey,
} from '../../../../../lib/data/keys.js';
import { type PeriodClose, periodCloses } from '../../../../../lib/data/period-close.js';
import {
  closePeriodWhenCounted,
  readPeriodClose,
} from '../../../../../lib/domain/billing/period-close.js';
import { type Item, store, transactions } from '../../../../fixtures/mocked-table.js';
import { unitContext } from '../../../../fixtures/service-context.js';

const period = '2026-10';
const jobItem = (fields: Partial<PeriodClose> = {}) =>
  periodCloses.toItem({
    period,
    status: 'running',
    shard: billingShardCount,
    cursor: 'START',
    recurringCharges: 5,
    startedAt: '2026-11-01T13:00:00.000Z',
    closedAt: null,
    ...fields,
  }) as Item;
/** The period's state shards, holding these counts of the close's charges (shard by shard). */
const countedItems = (...counts: number[]) =>
  counts.map(
    (recurringCounted, shard) =>
      billingPeriods.toItem({ period, shard, closedAt: null, recurringCounted }) as Item,
  );

describe('closePeriodWhenCounted', () => {
  it('closes the job and every state shard together once the shards have counted every charge written', async () => {
    store(jobItem(), ...countedItems(2, 0, 3));

    await closePeriodWhenCounted(unitContext, period);

    const [transaction] = transactions();
    expect(transactions()).toHaveLength(1);
    expect(transaction).toHaveLength(1 + billingShardCount);
    expect(transaction?.[0]).toMatchObject({ update: periodCloseKey(period), conditioned: true });
    for (let shard = 0; shard < billingShardCount; shard += 1) {
      expect(transaction).toContainEqual(
        expect.objectContaining({ update: billingPeriodKey(period, shard) }),
      );
    }
  });

  it.each([
    ['the charges written are not all counted yet', jobItem(), countedItems(2, 0, 2)],
    ['a shard of numbers is still being charged', jobItem({ shard: 15 }), countedItems(5)],
    ['the job is closed already', jobItem({ status: 'closed' }), countedItems(5)],
    ['there is no job', undefined, countedItems(5)],
  ])('writes nothing while %s', async (_case, job, counts) => {
    store(...(job ? [job] : []), ...counts);

    await closePeriodWhenCounted(unitContext, period);

    expect(transactions()).toEqual([]);
  });
});

describe('readPeriodClose', () => {
  it('shows a job whose shards are all charged as counting until it closes, with the charges counted so far', async () => {
    store(jobItem(), ...countedItems(1, 1, 1));

    expect(await readPeriodClose(unitContext, period)).toMatchObject({
      status: 'counting',
      shardsDone: billingShardCount,
      recurringCharges: 5,
      recurringChargesCounted: 3,
    });
  });

  it('never shows more charges counted than written: the counts, read beside the job, may be ahead of it', async () => {
    store(jobItem({ shard: 3, recurringCharges: 2 }), ...countedItems(4, 1));

    expect(await readPeriodClose(unitContext, period)).toMatchObject({
      status: 'running',
      shardsDone: 3,
      recurringCharges: 2,
      recurringChargesCounted: 2,
    });
  });
});
