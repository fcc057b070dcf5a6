import {
  beginIdempotentRequest,
  completeIdempotentRequest,
  digestOf,
  type IdempotencyClaim,
  type IdempotentRequest,
  releaseIdempotentRequest,
  type StoredResponse,
} from '../data/idempotency-record.js';
import { logger } from '../observability/logger.js';
import type { ServiceContext } from '../service-context.js';
import type { ApiEvent, ApiMiddleware, ApiResult } from './api-types.js';
import { callerScopeKey } from './caller.js';

/** JSON with sorted keys: the same body in another key order or spacing is the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const defaultLeaseMillis = 30_000;

/**
 * The identity of a request carrying an Idempotency-Key: scoped to the caller (role
 * and ids), the route and its decoded parameters (so /accounts/%2B49… and
 * /accounts/+49… are one resource), and the key; the body's digest tells a retry
 * from another request under the same key. Undefined without a key.
 */
export function idempotentRequestOf(event: ApiEvent): IdempotentRequest | undefined {
  const key = event.headers?.['idempotency-key'];
  if (key === undefined || !event.caller) return undefined;
  return {
    scope: [
      callerScopeKey(event.caller),
      event.routeKey,
      canonicalJson(event.validated?.params ?? null),
      key,
    ].join('\n'),
    requestDigest: digestOf(canonicalJson(event.validated?.rawBody)),
  };
}

/** A remembered answer, sent again and marked as such. */
export const replayOf = (response: StoredResponse): ApiResult => ({
  statusCode: response.statusCode,
  headers: { ...response.headers, 'idempotent-replayed': 'true' },
  body: response.body,
});

/** What an answer is remembered as. */
export const storedResponseOf = (result: ApiResult): StoredResponse => ({
  statusCode: result.statusCode ?? 200,
  headers: Object.fromEntries(
    Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)]),
  ),
  body: result.body ?? '',
});

/**
 * Idempotency-Key (§1) as a middleware any POST route can switch on with
 * `idempotent: true` (see api-handler.ts). It runs after validation, so a 400 never claims a key.
 * Only a 2xx answer is remembered; any failure releases the key and writes nothing.
 */
export function idempotency(context: () => ServiceContext): ApiMiddleware {
  const claimed = new WeakMap<ApiEvent, IdempotencyClaim>();
  return {
    before: async ({ event, context: lambdaContext }) => {
      const request = idempotentRequestOf(event);
      if (!request) return;
      const { db, now } = context();
      const outcome = await beginIdempotentRequest(
        db,
        request,
        now(),
        lambdaContext.getRemainingTimeInMillis?.() || defaultLeaseMillis,
      );
      if (outcome.kind === 'replay') return replayOf(outcome.response);
      claimed.set(event, outcome.claim);
    },
    after: async ({ event, response }) => {
      const claim = claimed.get(event);
      if (!claim || !response) return;
      try {
        const recorded = await completeIdempotentRequest(
          context().db,
          claim,
          storedResponseOf(response),
        );
        if (!recorded) logger.warn('The idempotency lease ran out before the answer was recorded');
      } catch (error) {
        // The work is done: answer it. The claim stays in progress until its lease ends.
        logger.error('Could not record the idempotent response', error as Error);
      }
    },
    onError: async ({ event }) => {
      const claim = claimed.get(event);
      if (!claim) return;
      // A release that fails leaves the claim to expire with its lease; the answer is still the error.
      await releaseIdempotentRequest(context().db, claim).catch((error: unknown) =>
        logger.error('Could not release the idempotency key', error as Error),
      );
    },
  };
}
