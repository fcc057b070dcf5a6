import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { sharedServiceContext } from '../../lib/service-context.js';
import { handlePeriodCloseRecord } from '../../lib/streams/period-close.js';

const processor = new BatchProcessor(EventType.DynamoDBStreams);

const recordHandler = (record: DynamoDBRecord) =>
  handlePeriodCloseRecord(sharedServiceContext(), record);

// In order: each record of a job is one step after the one before.
export const handler = (event: DynamoDBStreamEvent, context: Context) =>
  processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });
