import { AppError } from '../../errors.js';
import { errorsDocumentSchema } from './wire.js';

/**
 * The HTTP side of the DIDWW adapter: one JSON:API request, its headers, its time bound
 * and the mapping of every way it can fail to `provider_error` / `provider_timeout`.
 */

/**
 * The dated API version the adapter speaks, whatever the account's default: the one
 * DIDWW's TypeScript SDK 3.x sends and whose filters its FILTERS.md lists (the Ruby SDK
 * still sends 2022-05-10, which capitalises order statuses).
 */
export const didwwApiVersion = '2026-04-16';
export const jsonApiMediaType = 'application/vnd.api+json';

export type FetchFunction = (url: string, init: RequestInit) => Promise<Response>;

export interface DidwwRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Below the base URL, e.g. `available_dids` or `dids/{id}`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** DIDWW answered an error: `provider_error` that keeps the HTTP status for the callers that act on it. */
export class DidwwAnswerError extends AppError {
  constructor(
    readonly httpStatus: number,
    detail: string,
  ) {
    super('provider_error', detail);
  }
}

/** The time one port call may take: every request it sends shares the bound. */
export class Deadline {
  private constructor(
    private readonly at: number,
    private readonly millis: number,
  ) {}

  static after(millis: number): Deadline {
    return new Deadline(Date.now() + millis, millis);
  }

  remaining(): number {
    return this.at - Date.now();
  }

  expired(): AppError {
    return new AppError('provider_timeout', `DIDWW did not answer within ${this.millis} ms.`);
  }

  signal(): AbortSignal {
    const remaining = this.remaining();
    if (remaining <= 0) throw this.expired();
    return AbortSignal.timeout(remaining);
  }
}

export type DidwwSend = (request: DidwwRequest, deadline: Deadline) => Promise<unknown>;

/** Sends requests to DIDWW; answers the parsed body, or undefined for an empty one (204). */
export function createDidwwSend(options: {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly fetch: FetchFunction;
}): DidwwSend {
  const base = options.baseUrl.replace(/\/+$/, '');
  return async (request, deadline) => {
    const name = `${request.method} /${request.path}`;
    const search = new URLSearchParams(request.query).toString();
    const query = search ? `?${search}` : '';
    const headers: Record<string, string> = {
      'Api-Key': options.apiKey,
      'X-DIDWW-API-Version': didwwApiVersion,
      Accept: jsonApiMediaType,
    };
    if (request.body !== undefined) headers['Content-Type'] = jsonApiMediaType;
    let status: number;
    let text: string;
    try {
      const signal = deadline.signal();
      const response = await options.fetch(`${base}/${request.path}${query}`, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal,
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw transportFailure(error, name, deadline);
    }
    const body = parseJson(text);
    const errors = errorsDocumentSchema.safeParse(body);
    if (status < 200 || status > 299 || errors.success) {
      const reason = errors.success
        ? errors.data.errors
            .map(({ title, detail }) => [title, detail].filter(Boolean).join(': '))
            .join('; ')
        : text.slice(0, 200) || 'no body';
      throw new DidwwAnswerError(status, `DIDWW answered ${status} to ${name}: ${reason}`);
    }
    if (text !== '' && body === undefined) {
      throw new AppError('provider_error', `DIDWW answered ${name} with a body that is not JSON.`);
    }
    return body;
  };
}

const parseJson = (text: string): unknown => {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** No answer in time is a timeout; a refused connection or a broken one is an error. */
function transportFailure(error: unknown, name: string, deadline: Deadline): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return deadline.expired();
  }
  // Node's fetch fails with "fetch failed" and puts the reason (e.g. ECONNREFUSED) in `cause`.
  const cause = (error instanceof Error ? error.cause : undefined) as
    | { readonly code?: unknown; readonly message?: unknown }
    | undefined;
  const reason = [
    error instanceof Error ? error.message : String(error),
    cause?.code ?? cause?.message,
  ]
    .filter(Boolean)
    .join(': ');
  return new AppError('provider_error', `DIDWW could not be reached for ${name} (${reason}).`);
}
