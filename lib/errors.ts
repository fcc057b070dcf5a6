/**
 * The one error hierarchy. Anything thrown as an AppError is a client-facing
 * problem (status + stable code); anything else is a server fault, logged with its
 * stack and answered with a generic 500 (lib/http/problem.ts).
 */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly errors?: readonly FieldError[],
  ) {
    super(detail);
    this.name = 'AppError';
  }
}

export const unauthorized = (detail = 'A valid bearer token is required.') =>
  new AppError(401, 'unauthorized', 'Unauthorized', detail);

export const forbidden = (detail = 'This caller may not use this operation.') =>
  new AppError(403, 'forbidden', 'Forbidden', detail);

export const notFound = (detail = 'The resource does not exist.') =>
  new AppError(404, 'not_found', 'Not found', detail);

export const validationFailed = (
  errors: readonly FieldError[],
  detail = 'The request is invalid.',
) => new AppError(400, 'validation_failed', 'Validation failed', detail, errors);

export const payloadTooLarge = (limitBytes: number) =>
  new AppError(
    413,
    'payload_too_large',
    'Payload too large',
    `The request body exceeds ${limitBytes} bytes.`,
  );

export const preconditionFailed = () =>
  new AppError(
    412,
    'precondition_failed',
    'Precondition failed',
    'If-Match does not match the current ETag; read the resource again.',
  );

export const customerTerminated = (customerId: string) =>
  new AppError(
    409,
    'customer_terminated',
    'Customer terminated',
    `Customer ${customerId} is terminated; it can be read but not changed.`,
  );

export const idempotencyKeyReused = () =>
  new AppError(
    422,
    'idempotency_key_reused',
    'Idempotency key reused',
    'This Idempotency-Key was used with a different request body.',
  );

export const requestInProgress = () =>
  new AppError(
    409,
    'request_in_progress',
    'Request in progress',
    'A request with this Idempotency-Key is still being processed; retry later.',
  );

export const concurrentUpdate = () =>
  new AppError(
    409,
    'concurrent_update',
    'Concurrent update',
    'The resource kept changing while this request was applied; retry it.',
  );
