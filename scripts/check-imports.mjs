#!/usr/bin/env node
/**
 * Checks that imports inside server/ point one way: transports → chat → store/bus/db → shared,
 * with no cycle between folders (and so none between files across folders). Prints the folder
 * graph; exits 1 on a cycle or a forbidden edge. Usage: node scripts/check-imports.mjs
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..', 'server');
/** folders that must never be imported by the folder on the left */
const FORBIDDEN = {
  shared: ['chat', 'bus', 'db', 'transports', 'trpc', 'stomp', 'inquiries', 'presence', 'auth', 'mail'],
  db: ['chat', 'bus', 'transports', 'trpc', 'stomp', 'inquiries'],
  bus: ['chat', 'transports', 'trpc', 'stomp', 'inquiries'],
  presence: ['chat', 'bus', 'transports', 'trpc', 'stomp'],
  stomp: ['chat', 'transports', 'trpc', 'bus', 'db'],
  chat: ['transports', 'trpc', 'stomp', 'inquiries'],
  auth: ['chat', 'transports', 'trpc', 'stomp', 'bus', 'db'],
  inquiries: ['chat', 'transports', 'trpc', 'stomp', 'bus'],
};

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** a folder, or a file at the top (the composition root app.ts/index.ts/mounts.ts, and leaves such as logger.ts) */
const folderOf = (file) => {
  const rel = relative(root, file);
  return rel.includes('/') ? rel.split('/')[0] : rel.replace(/\.ts$/, '.ts');
};

const edges = new Map();
const problems = [];
for (const file of files(root)) {
  const from = folderOf(file);
  for (const m of readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+'(\.[^']+)'/gm)) {
    const target = resolve(dirname(file), m[1].replace(/\.js$/, '.ts'));
    const to = folderOf(target);
    if (to === from) continue;
    if (!edges.has(from)) edges.set(from, new Set());
    edges.get(from).add(to);
    if (FORBIDDEN[from]?.includes(to)) problems.push(`${relative(root, file)} imports ${m[1]} (${from} → ${to} is not allowed)`);
  }
}

// folder cycles, by depth-first search
const state = new Map();
function visit(node, path) {
  state.set(node, 'open');
  for (const next of edges.get(node) ?? []) {
    if (state.get(next) === 'open') problems.push(`cycle: ${[...path, node, next].slice(path.indexOf(next) >= 0 ? path.indexOf(next) : 0).join(' → ')}`);
    else if (!state.has(next)) visit(next, [...path, node]);
  }
  state.set(node, 'done');
}
for (const node of edges.keys()) if (!state.has(node)) visit(node, []);

for (const [from, tos] of [...edges].sort()) console.log(`${from.padEnd(12)} → ${[...tos].sort().join(', ')}`);
if (problems.length > 0) {
  console.error(`\n${problems.join('\n')}`);
  process.exit(1);
}
console.log('\nimports point one way: no folder cycle, no forbidden edge');
