import { SecretValue } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** DIDWW's sandbox: where a deployment that names no other DIDWW API orders its numbers. */
export const didwwSandboxUrl = 'https://sandbox-api.didww.com/v3';

/**
 * The environment of a function that calls the DID providers (§8), from CDK context:
 * `didwwApiUrl` (default DIDWW's sandbox) and `didwwApiKeySecret`, the name or ARN of a
 * Secrets Manager secret whose string is the API key. Without the secret the functions
 * get no DIDWW configuration and a provider batch's offers and assignments answer 502
 * provider_error naming what is missing; inventory batches work either way.
 *
 * The key is resolved by CloudFormation into the function's configuration at deploy
 * time (a dynamic reference: it never appears in the template); rotating it is a deploy.
 */
export function didProviderEnvironment(scope: Construct): Record<string, string> {
  const secret: unknown = scope.node.tryGetContext('didwwApiKeySecret');
  const url: unknown = scope.node.tryGetContext('didwwApiUrl') ?? didwwSandboxUrl;
  if (secret === undefined || secret === '') return {};
  if (typeof secret !== 'string') throw new Error('Context didwwApiKeySecret must be a string');
  if (typeof url !== 'string' || !/^https:\/\/.+\/v3\/?$/.test(url)) {
    throw new Error('Context didwwApiUrl must be an https:// URL ending in /v3');
  }
  return {
    DIDWW_API_URL: url,
    DIDWW_API_KEY: SecretValue.secretsManager(secret).unsafeUnwrap(),
  };
}
