import { startPeriodClose } from '../../lib/domain/billing/period-close.js';
import { periodOf, previousPeriod } from '../../lib/domain/billing/periods.js';
import { logger } from '../../lib/observability/logger.js';
import { sharedServiceContext } from '../../lib/service-context.js';

/**
 * The monthly schedule's target (infra/constructs/monthly-close.ts): starts the close
 * of the month before the one it runs in, in UTC. It runs after 12:00 UTC on the 1st,
 * when that month has ended in every timezone; a second run adds nothing.
 */
export const handler = async (): Promise<void> => {
  const ctx = sharedServiceContext();
  const period = previousPeriod(periodOf(ctx.now(), 'UTC'));
  const { close, started } = await startPeriodClose(ctx, period);
  logger.info(started ? 'Period close started' : 'Period close was started before', {
    period,
    status: close.status,
  });
};
