/**
 * The one error hierarchy and the one catalog of codes. Anything thrown as an
 * AppError is a client-facing problem (status + stable code, both from the catalog);
 * anything else is a server fault, logged with its stack and answered with a generic
 * 500 (lib/http/problem.ts). Routes list the codes they may answer from this catalog
 * (typed), and the OpenAPI document takes each code's status from it.
 */
export const errorCatalog = {
  // §1–2: the conventions every route shares.
  validation_failed: { status: 400, title: 'Validation failed' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  precondition_failed: { status: 412, title: 'Precondition failed' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused' },
  request_in_progress: { status: 409, title: 'Request in progress' },
  /** Beyond the contract's text: a write that kept meeting other writes; the caller retries. */
  concurrent_update: { status: 409, title: 'Concurrent update' },
  internal_error: { status: 500, title: 'Internal error' },
  // §3
  customer_terminated: { status: 409, title: 'Customer terminated' },
  // §4
  did_batch_required: { status: 422, title: 'DID batch required' },
  did_batch_not_found: { status: 404, title: 'DID batch not found' },
  hierarchy_not_allowed: { status: 422, title: 'Hierarchy not allowed' },
  main_office_required: { status: 422, title: 'Main office required' },
  main_office_not_found: { status: 404, title: 'Main office not found' },
  main_office_not_main: { status: 422, title: 'Main office not main' },
  main_office_self: { status: 422, title: 'Main office self' },
  reseller_mismatch: { status: 422, title: 'Reseller mismatch' },
  currency_mismatch: { status: 422, title: 'Currency mismatch' },
  number_conflict: { status: 409, title: 'Number conflict' },
  office_has_branches: { status: 409, title: 'Office has branches' },
  invoicing_set_on_main: { status: 422, title: 'Invoicing set on main' },
  // §6
  inherited_item: { status: 409, title: 'Inherited item' },
  extension_in_use: { status: 409, title: 'Extension in use' },
  unknown_member: { status: 422, title: 'Unknown member' },
  // §7
  number_taken: { status: 409, title: 'Number taken' },
  // §8
  name_taken: { status: 409, title: 'Name taken' },
  /** Beyond the contract's text: a provider batch's numbers come from the provider, not from an import. */
  batch_not_inventory: { status: 409, title: 'Batch not inventory' },
  period_not_ended: { status: 409, title: 'Period not ended' },
  did_provisioning_disabled: { status: 409, title: 'DID provisioning disabled' },
  did_unavailable: { status: 409, title: 'DID unavailable' },
  provider_error: { status: 502, title: 'Provider error' },
  provider_timeout: { status: 504, title: 'Provider timeout' },
} as const satisfies Record<string, { readonly status: number; readonly title: string }>;

export type ErrorCode = keyof typeof errorCatalog;

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export class AppError extends Error {
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ErrorCode,
    detail: string,
    readonly errors?: readonly FieldError[],
  ) {
    super(detail);
    this.name = 'AppError';
    this.status = errorCatalog[code].status;
    this.title = errorCatalog[code].title;
  }
}

export const unauthorized = (detail = 'A valid bearer token is required.') =>
  new AppError('unauthorized', detail);

export const forbidden = (detail = 'This caller may not use this operation.') =>
  new AppError('forbidden', detail);

export const notFound = (detail = 'The resource does not exist.') =>
  new AppError('not_found', detail);

export const validationFailed = (
  errors: readonly FieldError[],
  detail = 'The request is invalid.',
) => new AppError('validation_failed', detail, errors);

export const payloadTooLarge = (limitBytes: number) =>
  new AppError('payload_too_large', `The request body exceeds ${limitBytes} bytes.`);

export const preconditionFailed = () =>
  new AppError(
    'precondition_failed',
    'If-Match does not match the current ETag; read the resource again.',
  );

export const customerTerminated = (customerId: string) =>
  new AppError(
    'customer_terminated',
    `Customer ${customerId} is terminated; it can be read but not changed.`,
  );

export const idempotencyKeyReused = () =>
  new AppError(
    'idempotency_key_reused',
    'This Idempotency-Key was used with a different request body.',
  );

export const requestInProgress = () =>
  new AppError(
    'request_in_progress',
    'A request with this Idempotency-Key is still being processed; retry later.',
  );

export const concurrentUpdate = () =>
  new AppError(
    'concurrent_update',
    'The resource kept changing while this request was applied; retry it.',
  );
