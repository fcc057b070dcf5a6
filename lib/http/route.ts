import type { z } from 'zod';
import type { Role } from './caller.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RouteResponse {
  readonly description: string;
  readonly schema?: z.ZodType;
  /** Response headers worth documenting, e.g. ETag or Location. */
  readonly headers?: readonly ('ETag' | 'Location')[];
}

/**
 * One row of the routes table. The same row drives the CDK API (one function per
 * route), the local server (path matching, auth) and the OpenAPI document, and its
 * schemas validate the request inside the handler.
 */
export interface RouteDefinition {
  readonly operationId: string;
  readonly method: HttpMethod;
  /** API Gateway path template, e.g. /customers/{id}. */
  readonly path: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /** Roles that may call the route, or 'public' for no token at all. */
  readonly auth: 'public' | readonly Role[];
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** The route honours Idempotency-Key (SPEC §1). */
  readonly idempotent?: boolean;
  /** The route honours If-Match (SPEC §1). */
  readonly conditional?: boolean;
  readonly responses: Readonly<Record<number, RouteResponse>>;
  /** Error codes the route may answer, beyond the generic ones; documented in OpenAPI. */
  readonly errorCodes?: readonly string[];
}

/** Keeps the literal types of a route so handlers get typed input. */
export const defineRoute = <const R extends RouteDefinition>(route: R): R => route;
