import { describe, expect, it } from 'vitest';
import { boundedAll } from '../../../lib/concurrency.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('boundedAll', () => {
  it('keeps at most the limit in flight and the results in the items’ order', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await boundedAll([5, 1, 4, 2, 3], 2, async (item) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await pause(item);
      inFlight -= 1;
      return item * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });

  it('starts nothing after a failure, and raises it only once the items in flight settled', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const outcome = boundedAll([1, 2, 3, 4, 5, 6], 2, async (item) => {
      started.push(item);
      if (item === 1) throw new Error('item 1 failed');
      await pause(5);
      finished.push(item);
      return item;
    }).catch((error: Error) => ({ error: error.message, finishedWhenRaised: [...finished] }));
    expect(await outcome).toEqual({ error: 'item 1 failed', finishedWhenRaised: [2] });
    await pause(20);
    expect(started).toEqual([1, 2]);
  });
});
