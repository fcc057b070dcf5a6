import { EngineUnavailableError } from './engine.js';
import { resolveJwtSecret, signLocalToken } from './jwt.js';
import { startLocalRuntime } from './runtime.js';

/** `npm start`: the whole system on this machine, configured only by the environment. */
const env = process.env;
const port = Number(env.PORT ?? 3000);
const jwtSecret = resolveJwtSecret(env);

try {
  const runtime = await startLocalRuntime({
    port,
    host: env.HOST ?? '127.0.0.1',
    tableName: env.TABLE_NAME ?? 'additional-info',
    jwtSecret,
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT,
    deadLetterFile: env.DEAD_LETTER_FILE,
    // A DIDWW_API_URL without a key is the operator's to fix: DID calls then answer provider_error.
    didww: env.DIDWW_API_URL
      ? { url: env.DIDWW_API_URL, apiKey: env.DIDWW_API_KEY ?? '' }
      : undefined,
    ttlSweepMillis: 10_000,
    onError: (error) => console.error(error),
  });
  const adminToken = await signLocalToken(jwtSecret, { role: 'admin' });
  console.log(
    [
      `API         ${runtime.url}`,
      `OpenAPI     ${runtime.url}/openapi.json`,
      `DynamoDB    ${runtime.dynamodbEndpoint} (table ${runtime.tableName})`,
      `DIDWW       ${runtime.didwwStandIn ? `${runtime.didwwStandIn.url} (the local stand-in)` : env.DIDWW_API_URL}`,
      `Admin token ${adminToken}`,
      '',
      `Try: export API=${runtime.url} TOKEN=${adminToken}`,
      '     curl -s $API/customers -H "authorization: Bearer $TOKEN"',
      'Other roles: npm run token -- --role reseller --reseller-id r1 (tokens carry iss local-runtime, aud additional-info-api)',
      'Ctrl-C stops everything.',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping`);
    runtime.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
} catch (error) {
  if (error instanceof EngineUnavailableError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
