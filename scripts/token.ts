/**
 * Mints a development JWT signed with this machine's AUTH_SECRET (the env variable, or the
 * generated one in .local/auth-secret that the service uses in development).
 *   npm run token -- alice [--name "Alice Kim"] [--admin] [--ttl 3600]
 */
import { parseArgs } from 'node:util';
import { TokenService } from '../server/auth/tokens.js';
import { loadEnv } from '../server/env.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { name: { type: 'string' }, admin: { type: 'boolean', default: false }, ttl: { type: 'string', default: '86400' } },
});
const sub = positionals[0];
if (!sub) {
  console.error('usage: npm run token -- <user-id> [--name NAME] [--admin] [--ttl SECONDS]');
  process.exit(2);
}
const env = loadEnv();
const token = await new TokenService(env.AUTH_SECRET).issue(
  { id: sub, name: values.name ?? sub, role: values.admin ? 'admin' : 'user' },
  Number(values.ttl),
);
console.log(token);
