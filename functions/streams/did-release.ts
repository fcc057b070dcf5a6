import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { sharedServiceContext } from '../../lib/service-context.js';
import { handleDidReleaseRecord } from '../../lib/streams/did-release.js';

const processor = new BatchProcessor(EventType.DynamoDBStreams);

const recordHandler = (record: DynamoDBRecord) =>
  handleDidReleaseRecord(sharedServiceContext(), record);

// In order: a number given up and taken again must be handled as the stream ordered it.
export const handler = (event: DynamoDBStreamEvent, context: Context) =>
  processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });
