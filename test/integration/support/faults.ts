import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface FaultPlan {
  /** Which requests may fail: command name and input. */
  readonly applies: (command: string, input: Record<string, any>) => boolean;
  /** Fraction of the matching requests throttled (the SDK retries these itself). */
  readonly throttleRate?: number;
  /** Numbers (1-based, counting matching requests) that fail with a non-retryable error: a crash. */
  readonly crashAt?: readonly number[];
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
      if (plan.applies(String(context.commandName), input)) {
        matching += 1;
        if (matching === 1) await plan.before?.();
        if (plan.always || plan.crashAt?.includes(matching))
          throw new Error(`injected crash at request ${matching}`);
        if (plan.throttleRate && Math.random() < plan.throttleRate) {
          throw new ProvisionedThroughputExceededException({
            message: 'injected throttle',
            $metadata: {},
          });
        }
      }
      return next(args);
    },
    // Before the retry middleware, so a throttled attempt is retried by the SDK like a real one.
    { step: 'finalizeRequest', name, priority: 'low' },
  );
  return () => {
    client.middlewareStack.remove(name);
  };
}
