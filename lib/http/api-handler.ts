import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import type { IdempotentRequest, StoredResponse } from '../data/idempotency-record.js';
import { type IfMatch, parseIfMatch } from '../data/versioning.js';
import type { Caller } from '../domain/access.js';
import { AppError } from '../errors.js';
import { logger } from '../observability/logger.js';
import { type ServiceContext, sharedServiceContext } from '../service-context.js';
import type { ApiEvent, ApiMiddleware, ApiResult } from './api-types.js';
import { callerFromClaims, requireRole } from './caller.js';
import { idempotency, idempotentRequestOf, replayOf } from './idempotency.js';
import { internalErrorResponse, problemResponse } from './problem.js';
import { parseRequestParts, type ValidatedParts } from './request-parsing.js';
import { declaredErrorCodes, type RouteDefinition } from './route.js';

export type { ApiEvent, ApiResult } from './api-types.js';

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a handler receives: a known caller and input that already passed its schemas. */
export interface ApiRequest<R extends RouteDefinition> {
  readonly ctx: ServiceContext;
  readonly caller: R['auth'] extends 'public' ? undefined : Caller;
  readonly params: Parsed<R['params']>;
  readonly query: Parsed<R['query']>;
  readonly body: Parsed<R['body']>;
  readonly ifMatch: IfMatch;
  /** On an `idempotent: 'inServiceTransaction'` route called with an Idempotency-Key: the request's identity. */
  readonly idempotency: IdempotentRequest | undefined;
}

export type ApiResponse =
  | {
      readonly status: number;
      readonly body?: unknown;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** The first answer under the request's Idempotency-Key, sent again. */
  | { readonly replay: StoredResponse };

/** Claims first (401), then the role (403): §1's check order. */
const authenticate = (route: RouteDefinition): ApiMiddleware => ({
  before: ({ event }) => {
    if (route.auth === 'public') return;
    const caller = callerFromClaims(event.requestContext.authorizer?.jwt?.claims);
    requireRole(caller, route.auth);
    event.caller = caller;
  },
});

/** Size (413), then JSON and schemas (400): handlers only ever see valid input. */
const validate = (route: RouteDefinition): ApiMiddleware => ({
  before: ({ event }) => {
    event.validated = parseRequestParts(route, event);
  },
});

/**
 * Codes a route answered without declaring them, as `operationId code` (bounded: at
 * most one entry per route and code). Every unit and integration test file fails when
 * it is not empty (test/fixtures/error-code-guard.ts), so each route's list, and with
 * it the OpenAPI document, is complete for every rule the suites exercise.
 */
export const undeclaredErrorCodes = new Set<string>();

/** The last `.use()`, so its onError runs first: every error becomes problem+json. */
const problemResponder = (route: RouteDefinition): ApiMiddleware => {
  const declared = declaredErrorCodes(route);
  return {
    onError: (request) => {
      // A provider's failure (502, 504) is a declared answer too; only a 500 is our fault.
      if (request.error instanceof AppError && request.error.status !== 500) {
        if (request.error.status > 500) {
          logger.warn('A provider failed the request', {
            code: request.error.code,
            detail: request.error.message,
          });
        }
        if (!declared.has(request.error.code)) {
          undeclaredErrorCodes.add(`${route.operationId} ${request.error.code}`);
          logger.error('A route answered an error code it does not declare', {
            operationId: route.operationId,
            code: request.error.code,
          });
        }
        request.response = problemResponse(request.error);
        return;
      }
      logger.error('Request failed', request.error as Error);
      request.response = internalErrorResponse();
    },
  };
};

export function jsonResponse(response: ApiResponse): ApiResult {
  if ('replay' in response) return replayOf(response.replay);
  const hasBody = response.body !== undefined;
  return {
    statusCode: response.status,
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...response.headers },
    ...(hasBody ? { body: JSON.stringify(response.body) } : {}),
  };
}

/**
 * Wraps a route's handler in the one middleware chain every API Lambda shares:
 * logging with the request id as correlation id, authentication, role, parsing and
 * validation, idempotency where the route honours it, and problem+json errors.
 */
export function apiHandler<const R extends RouteDefinition>(
  route: R,
  handle: (request: ApiRequest<R>) => Promise<ApiResponse>,
  context: () => ServiceContext = sharedServiceContext,
) {
  return middy<ApiEvent, ApiResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({ before: ({ event }) => logger.setCorrelationId(event.requestContext.requestId) })
    .use(authenticate(route))
    .use(validate(route))
    .use(route.idempotent === true ? [idempotency(context)] : [])
    .use(problemResponder(route))
    .handler(async (event) => {
      const parts = event.validated as ValidatedParts;
      const response = await handle({
        ctx: context(),
        caller: event.caller,
        params: parts.params,
        query: parts.query,
        body: parts.body,
        ifMatch: parseIfMatch(event.headers?.['if-match']),
        idempotency:
          route.idempotent === 'inServiceTransaction' ? idempotentRequestOf(event) : undefined,
      } as ApiRequest<R>);
      return jsonResponse(response);
    });
}
