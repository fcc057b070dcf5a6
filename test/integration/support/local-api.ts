import { randomBytes } from 'node:crypto';
import { signLocalToken } from '../../../infra/local/jwt.js';
import {
  type LocalRuntime,
  type LocalRuntimeOptions,
  startLocalRuntime,
} from '../../../infra/local/runtime.js';

export interface ApiAnswer<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface RequestOptions {
  readonly token?: string;
  readonly body?: unknown;
  /** Sent as is, for malformed-JSON and size tests. */
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
}

export interface TestApi {
  readonly runtime: LocalRuntime;
  readonly tokens: {
    admin: string;
    reseller(resellerId: string): Promise<string>;
    customer(customerId: string): Promise<string>;
    switch: string;
    /** An admin token that expired an hour ago. */
    expired: string;
    signed(claims: Record<string, string>): Promise<string>;
  };
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<ApiAnswer<T>>;
  stop(): Promise<void>;
}

/** Starts the real local runtime (moto, table, HTTP server, pollers) for one test file. */
export async function startTestApi(
  options: Pick<LocalRuntimeOptions, 'consumers' | 'deadLetterFile' | 'didww'> = {},
): Promise<TestApi> {
  const jwtSecret = randomBytes(24).toString('hex');
  const runtime = await startLocalRuntime({
    port: 0,
    tableName: `test-${randomBytes(4).toString('hex')}`,
    jwtSecret,
    deadLetterFile: options.deadLetterFile ?? `.local/test-dead-letter-${process.pid}.jsonl`,
    consumers: options.consumers,
    didww: options.didww,
  });
  const signed = (claims: Record<string, string>) => signLocalToken(jwtSecret, claims);
  const tokens = {
    admin: await signed({ role: 'admin' }),
    switch: await signed({ role: 'switch' }),
    expired: await signLocalToken(
      jwtSecret,
      { role: 'admin' },
      Math.floor(Date.now() / 1000) - 3600,
    ),
    reseller: (resellerId: string) => signed({ role: 'reseller', resellerId }),
    customer: (customerId: string) => signed({ role: 'customer', customerId }),
    signed,
  };
  return {
    runtime,
    tokens,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined = options.rawBody;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] = 'application/json';
      }
      const response = await fetch(`${runtime.url}${path}`, { method, headers, body });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body: text ? JSON.parse(text) : undefined,
      };
    },
    stop: () => runtime.stop(),
  };
}
