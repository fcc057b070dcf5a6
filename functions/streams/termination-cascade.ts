import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { sharedServiceContext } from '../../lib/service-context.js';
import { handleTerminationRecord } from '../../lib/streams/termination-cascade.js';

const processor = new BatchProcessor(EventType.DynamoDBStreams);

const recordHandler = (record: DynamoDBRecord) =>
  handleTerminationRecord(sharedServiceContext(), record);

// In order: records of one item must be handled as the stream ordered them.
export const handler = (event: DynamoDBStreamEvent, context: Context) =>
  processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });
