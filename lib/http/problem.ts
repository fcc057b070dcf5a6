import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { AppError } from '../errors.js';

const problemBase = 'https://problems.additional-info.example/';

export const problemContentType = 'application/problem+json';

/** Renders an AppError as RFC 9457 problem+json. */
export function problemResponse(error: AppError): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: error.status,
    headers: { 'content-type': problemContentType },
    body: JSON.stringify({
      type: `${problemBase}${error.code}`,
      title: error.title,
      status: error.status,
      code: error.code,
      detail: error.message,
      ...(error.errors ? { errors: error.errors } : {}),
    }),
  };
}

/** A server fault: nothing about it leaves the process; the log has the stack. */
export const internalErrorResponse = (): APIGatewayProxyStructuredResultV2 =>
  problemResponse(
    new AppError('internal_error', 'The request could not be completed; it is safe to retry.'),
  );
