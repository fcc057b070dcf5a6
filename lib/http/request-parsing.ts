import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { z } from 'zod';
import { type FieldError, payloadTooLarge, validationFailed } from '../errors.js';
import type { RouteDefinition } from './route.js';

/** §1: bodies over 256 KiB are refused before they are parsed. */
export const maxBodyBytes = 256 * 1024;

/** If-Match becomes an IN condition, and DynamoDB takes at most 100 operands. */
const maxIfMatchTags = 50;

export interface ValidatedParts {
  readonly params: unknown;
  readonly query: unknown;
  readonly body: unknown;
  /** The body as the client sent it, parsed but not transformed: what idempotency compares. */
  readonly rawBody: unknown;
}

const issuesToErrors = (location: string, issues: readonly z.core.$ZodIssue[]): FieldError[] =>
  issues.flatMap((issue) => {
    // An unknown key is one issue naming several keys; each is its own field error.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [location, ...issue.path.map(String), key].join('.'),
        message: 'is not a known field',
      }));
    }
    return [{ path: [location, ...issue.path.map(String)].join('.'), message: issue.message }];
  });

function check(
  location: string,
  schema: z.ZodType | undefined,
  value: unknown,
  errors: FieldError[],
) {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  errors.push(...issuesToErrors(location, result.error.issues));
  return undefined;
}

function decodeBody(event: APIGatewayProxyEventV2): string | undefined {
  if (event.body === undefined || event.body === null) return undefined;
  const bytes = Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.byteLength > maxBodyBytes) throw payloadTooLarge(maxBodyBytes);
  return bytes.toString('utf8');
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw validationFailed(
      [{ path: 'body', message: 'is not valid JSON' }],
      'The body is not valid JSON.',
    );
  }
}

/**
 * Validates path, query and body against the route's schemas and reports every
 * bad field at once. Query strings are single-valued, as API Gateway joins repeats with commas.
 */
export function parseRequestParts(
  route: RouteDefinition,
  event: APIGatewayProxyEventV2,
): ValidatedParts {
  const rawBody = route.body ? parseJson(decodeBody(event)) : undefined;
  const errors: FieldError[] = [];
  const params = check('path', route.params, event.pathParameters ?? {}, errors);
  const query = check('query', route.query, event.queryStringParameters ?? {}, errors);
  const body = check('body', route.body, rawBody, errors);
  if (route.idempotent) {
    const key = event.headers?.['idempotency-key'];
    if (key !== undefined && (key.length < 1 || key.length > 255)) {
      errors.push({ path: 'header.Idempotency-Key', message: 'must be 1 to 255 characters' });
    }
  }
  if (route.conditional) {
    const ifMatch = event.headers?.['if-match'];
    if (ifMatch !== undefined && ifMatch.split(',').length > maxIfMatchTags) {
      errors.push({ path: 'header.If-Match', message: `lists at most ${maxIfMatchTags} ETags` });
    }
  }
  if (errors.length > 0) throw validationFailed(errors);
  return { params, query, body, rawBody };
}
