import type { z } from 'zod';
import type { Role } from '../domain/access.js';
import type { ErrorCode } from '../errors.js';

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
  /**
   * The route honours Idempotency-Key (§1): `true` through the idempotency middleware
   * (a claim before the handler, the answer after it: two writes of their own);
   * `'inServiceTransaction'` when the service writes the key's record inside its own
   * transaction (the handler receives `idempotency`), so the key costs no round trip.
   */
  readonly idempotent?: boolean | 'inServiceTransaction';
  /**
   * The route calls an external DID provider (§8): its function gets the provider's
   * configuration and a timeout long enough for a provider call that runs to its 10 s bound.
   */
  readonly callsDidProviders?: true;
  /** The route does bulk work (an import of 1,000 numbers): it gets the long timeout too. */
  readonly bulk?: true;
  /** The route honours If-Match (§1). */
  readonly conditional?: boolean;
  readonly responses: Readonly<Record<number, RouteResponse>>;
  /**
   * Codes the route's rules may answer, beyond the generic ones its flags imply
   * (`genericErrorCodes`); documented in OpenAPI with their catalog status. A route
   * answering a code outside this list is a contract breach the tests catch.
   */
  readonly errorCodes?: readonly ErrorCode[];
}

/** Keeps the literal types of a route so handlers get typed input. */
export const defineRoute = <const R extends RouteDefinition>(route: R): R => route;

/**
 * The function's timeout, in the cloud and locally alike: 10 s, or 28 s (inside API
 * Gateway's 30) for a route that calls a provider (a call may run to its 10 s bound,
 * twice) or does bulk work.
 */
export const functionTimeoutSeconds = (route: RouteDefinition): number =>
  route.callsDidProviders || route.bulk ? 28 : 10;

/** The codes any route may answer by §1's check order, from what its row declares. */
export function genericErrorCodes(route: RouteDefinition): ErrorCode[] {
  const codes: ErrorCode[] = [];
  if (route.auth !== 'public') codes.push('unauthorized', 'forbidden');
  if (route.params || route.query || route.body) codes.push('validation_failed');
  if (route.body) codes.push('payload_too_large');
  if (route.params) codes.push('not_found');
  if (route.idempotent) codes.push('request_in_progress', 'idempotency_key_reused');
  if (route.conditional) codes.push('precondition_failed');
  return codes;
}

/** Every code the route may answer: the generic ones and its rules'. */
export const declaredErrorCodes = (route: RouteDefinition): ReadonlySet<ErrorCode> =>
  new Set([...genericErrorCodes(route), ...(route.errorCodes ?? [])]);
