import type { MiddlewareObj } from '@middy/core';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { Caller } from '../domain/access.js';
import type { ValidatedParts } from './request-parsing.js';

/** The types the HTTP middlewares share, apart from the factory that chains them (no import cycles). */
export type ApiResult = APIGatewayProxyStructuredResultV2;

/** The API Gateway event, plus what the middlewares learned about it. */
export type ApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer & {
  caller?: Caller;
  validated?: ValidatedParts;
};

export type ApiMiddleware = MiddlewareObj<ApiEvent, ApiResult, Error, Context>;
