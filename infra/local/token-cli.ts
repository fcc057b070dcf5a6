import { parseArgs } from 'node:util';
import { readJwtSecret, signLocalToken } from './jwt.js';

/** `npm run token -- --role reseller --reseller-id r1`: prints a token for the local server. */
const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'admin' },
    'reseller-id': { type: 'string' },
    'customer-id': { type: 'string' },
    'expires-in': { type: 'string', default: '12h' },
  },
});

const claims: Record<string, string> = { role: values.role ?? 'admin' };
if (values['reseller-id']) claims.resellerId = values['reseller-id'];
if (values['customer-id']) claims.customerId = values['customer-id'];
const missing =
  (claims.role === 'reseller' && !claims.resellerId && '--reseller-id') ||
  (claims.role === 'customer' && !claims.customerId && '--customer-id');
if (!['admin', 'reseller', 'customer', 'switch'].includes(claims.role ?? '') || missing) {
  console.error(
    missing
      ? `--role ${claims.role} needs ${missing}`
      : '--role must be admin, reseller, customer or switch',
  );
  process.exit(2);
}
console.log(await signLocalToken(readJwtSecret(), claims, values['expires-in']));
