import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { z } from 'zod';
import { type IfMatch, parseIfMatch } from '../data/versioning.js';
import { AppError } from '../errors.js';
import { logger } from '../observability/logger.js';
import { type Caller, callerFromClaims, requireRole } from './caller.js';
import { idempotency } from './idempotency.js';
import { internalErrorResponse, problemResponse } from './problem.js';
import { parseRequestParts, type ValidatedParts } from './request-parsing.js';
import type { RouteDefinition } from './route.js';

export type ApiResult = APIGatewayProxyStructuredResultV2;

/** The API Gateway event, plus what the middlewares learned about it. */
export type ApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer & {
  caller?: Caller;
  validated?: ValidatedParts;
};

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a handler receives: a known caller and input that already passed its schemas. */
export interface ApiRequest<R extends RouteDefinition> {
  readonly caller: R['auth'] extends 'public' ? undefined : Caller;
  readonly params: Parsed<R['params']>;
  readonly query: Parsed<R['query']>;
  readonly body: Parsed<R['body']>;
  readonly ifMatch: IfMatch;
}

export interface ApiResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

type ApiMiddleware = MiddlewareObj<ApiEvent, ApiResult, Error, Context>;

/** Claims first (401), then the role (403): SPEC §1's check order. */
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

/** The last `.use()`, so its onError runs first: every error becomes problem+json. */
const problemResponder = (): ApiMiddleware => ({
  onError: (request) => {
    if (request.error instanceof AppError && request.error.status < 500) {
      request.response = problemResponse(request.error);
      return;
    }
    logger.error('Request failed', request.error as Error);
    request.response = internalErrorResponse();
  },
});

export function jsonResponse(response: ApiResponse): ApiResult {
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
) {
  return middy<ApiEvent, ApiResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({ before: ({ event }) => logger.setCorrelationId(event.requestContext.requestId) })
    .use(authenticate(route))
    .use(validate(route))
    .use(route.idempotent ? [idempotency()] : [])
    .use(problemResponder())
    .handler(async (event) => {
      const parts = event.validated as ValidatedParts;
      const response = await handle({
        caller: event.caller,
        params: parts.params,
        query: parts.query,
        body: parts.body,
        ifMatch: parseIfMatch(event.headers?.['if-match']),
      } as ApiRequest<R>);
      return jsonResponse(response);
    });
}
