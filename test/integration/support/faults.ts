import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface FaultPlan {
  /** Which requests may fail: command name and input. */
  readonly applies: (command: string, input: Record<string, any>) => boolean;
  /** Fraction of the matching requests throttled (the SDK retries these itself). */
  readonly throttleRate?: number;
  /** Numbers (1-based, counting matching attempts) that are throttled. */
  readonly throttleAt?: readonly number[];
  /** Numbers (1-based, counting matching requests) that fail with a non-retryable error: a crash. */
  readonly crashAt?: readonly number[];
  /** Numbers (1-based) of matching requests that are applied and whose answer is then lost: a crash after the write. */
  readonly crashAfterAt?: readonly number[];
  /** Every matching request fails: a poison record. */
  readonly always?: boolean;
  /** Runs, and is waited for, before the first matching request is sent: another writer getting in first. */
  readonly before?: () => Promise<unknown>;
}

/**
 * Injects faults into the client the handlers share, with an SDK middleware that runs
 * before each attempt is sent. Returns the function that removes it.
 */
export function injectFaults(client: DynamoDBDocumentClient, plan: FaultPlan): () => void {
  const name = `faults-${Math.random().toString(36).slice(2)}`;
  let matching = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, any>;
      const matches = plan.applies(String(context.commandName), input);
      // This request's number: others may be counted while it is on the wire.
      const number = matches ? ++matching : 0;
      if (matches) {
        if (number === 1) await plan.before?.();
        if (plan.always || plan.crashAt?.includes(number))
          throw new Error(`injected crash at request ${number}`);
        if (
          plan.throttleAt?.includes(number) ||
          (plan.throttleRate && Math.random() < plan.throttleRate)
        ) {
          throw new ProvisionedThroughputExceededException({
            message: 'injected throttle',
            $metadata: {},
          });
        }
      }
      const answer = await next(args);
      if (plan.crashAfterAt?.includes(number))
        throw new Error(`injected crash after request ${number}`);
      return answer;
    },
    // Before the retry middleware, so a throttled attempt is retried by the SDK like a real one.
    { step: 'finalizeRequest', name, priority: 'low' },
  );
  return () => {
    client.middlewareStack.remove(name);
  };
}
