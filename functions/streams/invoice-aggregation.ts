import type { DynamoDBStreamEvent } from 'aws-lambda';
import { sharedServiceContext } from '../../lib/service-context.js';
import { handleInvoiceRecords } from '../../lib/streams/invoice-aggregation.js';

export const handler = (event: DynamoDBStreamEvent) =>
  handleInvoiceRecords(sharedServiceContext(), event.Records);
