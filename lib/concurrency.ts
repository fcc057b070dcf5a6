/**
 * Runs `work` over `items` with at most `limit` in flight; results keep the items' order.
 * After the first failure no further item starts, and the failure is raised only once
 * the items in flight have settled, so nothing keeps writing after the caller answered.
 */
export async function boundedAll<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const outcomes = await Promise.allSettled(
    Array.from({ length: Math.min(limit, items.length) }, worker),
  );
  const rejection = outcomes.find((outcome) => outcome.status === 'rejected');
  if (rejection) throw rejection.reason;
  return results;
}
