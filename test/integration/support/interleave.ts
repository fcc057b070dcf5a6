import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Runs `action` once, just before the first request that matches `applies` goes to the
 * engine (command name and marshalled input, as sent): another writer's change lands
 * exactly between what a request read and what it writes, the interleaving a race can
 * only hit by chance. Returns the function that removes it.
 */
export function beforeFirstSend(
  client: DynamoDBDocumentClient,
  applies: (command: string, input: Record<string, any>) => boolean,
  action: () => Promise<unknown>,
): () => void {
  const name = `interleave-${Math.random().toString(36).slice(2)}`;
  let done = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!done && applies(String(context.commandName), args.input as Record<string, any>)) {
        done = true;
        await action();
      }
      return next(args);
    },
    { step: 'finalizeRequest', name },
  );
  return () => {
    client.middlewareStack.remove(name);
  };
}
