import type { DidProvider, DidProviders } from '../domain/dids/provider.js';
import { AppError } from '../errors.js';
import { createDidwwProvider, maxTimeoutMillis } from './didww/adapter.js';

/**
 * The DID providers a `provider` batch can name (§8), each built from the environment on
 * first use: `DIDWW_API_URL` (the base URL ending in /v3), `DIDWW_API_KEY` and optionally
 * `DIDWW_TIMEOUT_MS` (default and most 10,000). A provider left unconfigured fails the call
 * that needs it with `provider_error`, not the start of the process.
 */
export function didProvidersFromEnvironment(env: NodeJS.ProcessEnv = process.env): DidProviders {
  let didww: DidProvider | undefined;
  return (name) => {
    switch (name) {
      case 'didww':
        didww ??= didwwFromEnvironment(env);
        return didww;
    }
  };
}

function didwwFromEnvironment(env: NodeJS.ProcessEnv): DidProvider {
  const baseUrl = env.DIDWW_API_URL;
  if (!baseUrl) throw new AppError('provider_error', 'no DIDWW_API_URL configured');
  const apiKey = env.DIDWW_API_KEY;
  if (!apiKey) throw new AppError('provider_error', 'no DIDWW_API_KEY configured');
  const timeout = env.DIDWW_TIMEOUT_MS;
  const timeoutMillis =
    timeout === undefined || timeout === '' ? maxTimeoutMillis : Number(timeout);
  if (!Number.isInteger(timeoutMillis) || timeoutMillis <= 0) {
    throw new AppError(
      'provider_error',
      `DIDWW_TIMEOUT_MS must be a positive whole number of milliseconds, not "${timeout}"`,
    );
  }
  return createDidwwProvider({
    baseUrl,
    apiKey,
    timeoutMillis: Math.min(timeoutMillis, maxTimeoutMillis),
  });
}
