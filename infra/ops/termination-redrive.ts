import { parseArgs } from 'node:util';
import { terminationEffects } from '../../lib/domain/termination/effects.js';
import { resumeCascade } from '../../lib/domain/termination/redrive.js';
import { sharedServiceContext } from '../../lib/service-context.js';

/**
 * `npm run termination:redrive -- --customer <id> [--customer <id> ...]`: re-drives the
 * termination of customers whose stream records reached the dead-letter queue (their
 * effects, and a main office's cascade). Uses TABLE_NAME and, locally,
 * DYNAMODB_ENDPOINT; in the cloud, the AWS credentials of the environment.
 */
const { values } = parseArgs({ options: { customer: { type: 'string', multiple: true } } });
const ids = values.customer ?? [];
if (ids.length === 0 || !process.env.TABLE_NAME) {
  console.error('usage: TABLE_NAME=<table> npm run termination:redrive -- --customer <id> ...');
  process.exit(2);
}
for (const id of ids) {
  const job = await resumeCascade(sharedServiceContext(), id, terminationEffects);
  console.log(
    id,
    typeof job === 'string'
      ? 'no cascade (its termination effects ran again if it is terminated)'
      : `effects re-run; cascade ${job.status}, pass ${job.pass}, ${job.terminatedCount} terminated`,
  );
}
