/**
 * `npm run docs`: writes docs/openapi.yaml and docs/asyncapi.yaml from the server's zod schemas.
 * `npm run docs -- --check`: exits 1 when the committed files differ from freshly generated ones.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../server/paths.js';
import { CONTRACT_FILES, renderContract } from './contract/render.js';

const check = process.argv.includes('--check');
const rendered = renderContract();
let stale = 0;
for (const [key, file] of Object.entries(CONTRACT_FILES) as Array<[keyof typeof CONTRACT_FILES, string]>) {
  const path = join(projectRoot(), file);
  const current = (() => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  })();
  if (current === rendered[key]) continue;
  if (check) {
    console.error(`${file} is out of date: run npm run docs`);
    stale++;
  } else {
    writeFileSync(path, rendered[key]);
    console.log(`wrote ${file}`);
  }
}
process.exit(stale > 0 ? 1 : 0);
