/**
 * Reading the committed contract documents in tests: YAML → object, local `$ref`s resolved, and
 * ajv validators for JSON Schema 2020-12 (OpenAPI 3.1) and draft-07 (AsyncAPI payloads).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { projectRoot } from '../../server/paths.js';

export type Doc = Record<string, any>;

export function loadDoc(file: 'docs/openapi.yaml' | 'docs/asyncapi.yaml'): { text: string; doc: Doc } {
  const text = readFileSync(join(projectRoot(), file), 'utf8');
  return { text, doc: parse(text) as Doc };
}

/** follows `#/a/b/c` inside `doc` */
export function pointer(doc: Doc, ref: string): any {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((node: any, key) => node?.[key], doc);
}

/** a copy of `node` with every local `$ref` replaced by its target (the documents have no cycles) */
export function deref(doc: Doc, node: any): any {
  if (Array.isArray(node)) return node.map((n) => deref(doc, n));
  if (node === null || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string' && node.$ref.startsWith('#/')) return deref(doc, pointer(doc, node.$ref));
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, deref(doc, v)]));
}

export function validators(dialect: '2020-12' | 'draft-07') {
  const ajv = dialect === '2020-12' ? new Ajv2020({ strict: false, allErrors: true }) : new Ajv({ strict: false, allErrors: true });
  (addFormats as unknown as (a: unknown) => void)(ajv);
  const cache = new Map<unknown, ValidateFunction>();
  /** throws with ajv's errors unless `value` matches `schema` */
  return function check(schema: object, value: unknown, what: string): void {
    let validate = cache.get(schema);
    if (!validate) cache.set(schema, (validate = ajv.compile(schema)));
    if (!validate(value)) throw new Error(`${what} does not match its documented schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`);
  };
}

/** a STOMP frame as text → command, headers (first occurrence wins, as STOMP 1.2 says), body */
export function parseFrame(text: string): { command: string; headers: Record<string, string>; body: string } {
  const end = text.indexOf('\n\n');
  const [command = '', ...lines] = text.slice(0, end).split('\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    const name = line.slice(0, i);
    if (!(name in headers)) headers[name] = line.slice(i + 1);
  }
  return { command, headers, body: text.slice(end + 2).replace(/\0$/, '') };
}

/** a client frame from documented headers and payload */
export function frame(command: string, headers: Record<string, string>, body = ''): string {
  return `${command}\n${Object.entries(headers)
    .map(([k, v]) => `${k}:${v}\n`)
    .join('')}\n${body}\0`;
}
