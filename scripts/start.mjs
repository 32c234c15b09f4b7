#!/usr/bin/env node
// `npm start`: builds what is missing or stale, then runs the production server. For a local
// run without AUTH_SECRET it uses the development secret kept in .local/ and says so; a real
// deployment sets AUTH_SECRET (and is refused without it).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildIfStale, root } from './build-if-stale.mjs';

buildIfStale();

const env = { ...process.env, NODE_ENV: 'production' };
if (!env.AUTH_SECRET) {
  env.AUTH_SECRET_LOCAL_FALLBACK = 'true';
  console.log('> AUTH_SECRET is not set: using the local development secret in .local/auth-secret (set AUTH_SECRET in production)');
}
const child = spawn(process.execPath, ['--enable-source-maps', join(root, 'dist/server/index.js')], { cwd: root, stdio: 'inherit', env });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
