import { parseArgs } from 'node:util';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import { streamConsumers } from '../../lib/streams/consumers.js';
import type { StreamHandler } from '../local/stream-poller.js';
import { type RedriveResult, redriveFile, redriveQueue } from './dead-letters.js';

/**
 * `npm run dead-letters:redrive -- --consumer <name> (--queue-url <url> | --file <path>)`:
 * hands what a consumer gave up on to its handler again, once the cause is fixed. In
 * the cloud, from its dead-letter queue (the stack's outputs name each queue), with
 * the environment's AWS credentials and TABLE_NAME; locally, from the runtime's
 * dead-letter file (`.local/dead-letter.jsonl`), with TABLE_NAME and DYNAMODB_ENDPOINT
 * as `npm start` prints them. Safe to repeat.
 */
const { values } = parseArgs({
  options: {
    consumer: { type: 'string' },
    'queue-url': { type: 'string' },
    file: { type: 'string' },
  },
});
const consumer = streamConsumers.find((candidate) => candidate.name === values.consumer);
const names = streamConsumers.map((candidate) => candidate.name).join(' | ');
if (!consumer || !(values['queue-url'] || values.file) || !process.env.TABLE_NAME) {
  console.error(
    `usage: TABLE_NAME=<table> npm run dead-letters:redrive -- --consumer <${names}> (--queue-url <url> | --file <path>)`,
  );
  process.exit(2);
}
const module = (await import(new URL(`../../${consumer.entry}`, import.meta.url).href)) as {
  handler: StreamHandler;
};
const results: RedriveResult[] = values.file
  ? await redriveFile(values.file, consumer, module.handler)
  : await redriveQueue(
      { sqs: new SQSClient({}), streams: new DynamoDBStreamsClient({}) },
      values['queue-url'] as string,
      consumer,
      module.handler,
    );
for (const result of results) {
  console.log(
    result.failure === undefined
      ? `re-driven: ${result.handled} record(s)`
      : `stopped after ${result.handled} record(s), kept: ${result.failure}`,
  );
}
console.log(
  `${results.filter((result) => result.failure === undefined).length} of ${results.length} re-driven`,
);
process.exitCode = results.every((result) => result.failure === undefined) ? 0 : 1;
