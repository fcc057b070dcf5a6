import { parseArgs } from 'node:util';
import { resumeCascade } from '../../lib/domain/termination.js';
import { sharedServiceContext } from '../../lib/service-context.js';

/**
 * `npm run cascade:resume -- --main-office <id> [--main-office <id> ...]`: re-drives the
 * termination cascade of main offices whose records reached the dead-letter queue.
 * Uses TABLE_NAME and, locally, DYNAMODB_ENDPOINT; in the cloud, the AWS credentials
 * of the environment.
 */
const { values } = parseArgs({ options: { 'main-office': { type: 'string', multiple: true } } });
const ids = values['main-office'] ?? [];
if (ids.length === 0 || !process.env.TABLE_NAME) {
  console.error('usage: TABLE_NAME=<table> npm run cascade:resume -- --main-office <id> ...');
  process.exit(2);
}
for (const id of ids) {
  const job = await resumeCascade(sharedServiceContext(), id);
  console.log(
    id,
    typeof job === 'string'
      ? job
      : `${job.status}, pass ${job.pass}, ${job.terminatedCount} terminated`,
  );
}
