#!/usr/bin/env node
// Builds the compiled server (dist/) and the Next.js production build (.next/) when they are
// missing or older than their sources. Used by `npm start` and before `npm test`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function npmRun(script) {
  const r = spawnSync('npm', ['run', script], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** newest modification time of the given files and of every file below the given folders */
function newestMtime(paths) {
  let latest = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const st = statSync(p);
    latest = Math.max(
      latest,
      st.isDirectory() ? newestMtime(readdirSync(p).map((n) => join(p, n))) : st.mtimeMs,
    );
  }
  return latest;
}

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

export function buildIfStale() {
  const serverEntry = join(root, 'dist/server/index.js');
  if (newestMtime([join(root, 'server'), join(root, 'tsconfig.server.json')]) > mtime(serverEntry)) {
    console.log('> building the server (first run, or its sources changed)');
    npmRun('build:server');
  }
  const buildId = join(root, '.next/BUILD_ID');
  const webSources = ['app', 'public', 'server/trpc', 'next.config.js'].map((p) => join(root, p));
  if (newestMtime(webSources) > mtime(buildId)) {
    console.log('> building the web page (first run, or its sources changed)');
    npmRun('build:web');
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildIfStale();
