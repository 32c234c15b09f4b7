/**
 * Builds the OpenAPI 3.1 document of the HTTP/JSON surface: every tRPC procedure as a client in
 * any language calls it (no transformer: queries are GET with `?input=<JSON>`, mutations POST with
 * the JSON input as body, results in `{"result":{"data":…}}`), plus /healthz and /readyz.
 * Input schemas are read from the router itself, so they are the ones the server validates with.
 */
import { z } from 'zod';
import { appRouter } from '../../server/trpc/root.js';
import { procedures, type ProcedureDoc } from './procedures.js';
import { EXAMPLE, jsonSchema, type JsonSchema } from './schema.js';

interface RouterProcedure {
  _def: { type: 'query' | 'mutation' | 'subscription'; inputs: z.ZodType[] };
}

/** every procedure of the router, by its dotted path, in router order */
export function routerProcedures(): Array<[string, RouterProcedure['_def']]> {
  const all = (appRouter as unknown as { _def: { procedures: Record<string, RouterProcedure> } })._def.procedures;
  return Object.entries(all).map(([path, p]) => [path, p._def]);
}

const trpcError = z
  .object({
    error: z.object({
      message: z.string(),
      code: z.number().int().describe('JSON-RPC error number'),
      data: z.object({
        code: z.enum(['BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'TOO_MANY_REQUESTS', 'PAYLOAD_TOO_LARGE', 'SERVICE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR']),
        httpStatus: z.number().int(),
        path: z.string().optional().describe('the procedure'),
        stack: z.string().optional().describe('outside production only'),
        zodError: z
          .object({ formErrors: z.array(z.string()), fieldErrors: z.record(z.string(), z.array(z.string())) })
          .nullable()
          .describe('for BAD_REQUEST from input validation: messages by input field'),
      }),
    }),
  })
  .describe('the tRPC error shape (no transformer)');

const dependency = z.enum(['up', 'down', 'embedded']);
const readiness = z.object({
  status: z.enum(['ready', 'degraded', 'unavailable']),
  instance: z.string(),
  mysql: z.enum(['up', 'down']),
  redis: dependency,
  kafka: dependency,
  smtp: dependency,
  dependencies: z.object({ mysql: z.enum(['up', 'down']), redis: dependency, kafka: dependency, smtp: dependency }),
});

const STATUS_TEXT: Record<number, string> = {
  400: 'invalid input (`zodError` names the fields) or a refused request',
  401: 'no valid token or session',
  403: 'not allowed (not a member, not an administrator)',
  404: 'no such room',
  413: 'request body too large',
  429: 'a rate limit was hit',
  503: 'the database is unavailable; retry after `Retry-After` seconds',
};

function errorStatuses(doc: ProcedureDoc): number[] {
  const s = [400];
  if (doc.access !== 'public') s.push(401);
  if (doc.access === 'admin' || doc.access === 'session' || doc.room) s.push(403);
  if (doc.room) s.push(404);
  s.push(413, 429, 503);
  return s;
}

const json = (schema: JsonSchema, examples?: Record<string, unknown>) => ({
  'application/json': { schema, ...(examples && Object.keys(examples).length > 0 ? { examples } : {}) },
});

function operation(path: string, def: RouterProcedure['_def'], doc: ProcedureDoc) {
  if (def.inputs.length > 1) throw new Error(`${path}: chained inputs are not documented yet`);
  const input = def.inputs[0] ? jsonSchema(def.inputs[0], 'draft-2020-12', 'input') : undefined;
  const inputRequired = def.inputs[0] ? !def.inputs[0].safeParse(undefined).success : false;
  const requestExamples: Record<string, unknown> = {};
  const responseExamples = new Map<number, Record<string, unknown>>();
  for (const [name, ex] of Object.entries(doc.examples)) {
    if (ex.input !== undefined) requestExamples[name] = { summary: ex.summary, value: ex.input };
    const body = ex.error
      ? { error: { message: ex.error.message, code: -32600, data: { code: ex.error.code, httpStatus: ex.status, path, zodError: ex.error.zodError ?? null } } }
      : { result: { data: ex.data } };
    const map = responseExamples.get(ex.status) ?? {};
    map[name] = { summary: ex.summary, 'x-caller': ex.caller, value: body };
    responseExamples.set(ex.status, map);
  }
  const responses: Record<string, unknown> = {
    '200': {
      description: 'success',
      content: json({ type: 'object', properties: { result: { type: 'object', properties: { data: { $ref: `#/components/schemas/${schemaName(path)}` } }, required: ['data'] } }, required: ['result'] }, responseExamples.get(200)),
    },
  };
  for (const status of errorStatuses(doc)) {
    responses[String(status)] = { description: STATUS_TEXT[status], content: json({ $ref: '#/components/schemas/TrpcError' }, responseExamples.get(status)) };
  }
  const security =
    doc.access === 'public' ? [{}, { bearer: [] }, { session: [] }] : doc.access === 'session' ? [{ session: [] }] : [{ bearer: [] }, { session: [] }];
  const base = { operationId: path, summary: doc.summary, tags: [path.split('.')[0]], security, responses };
  if (def.type === 'query') {
    const parameters = input
      ? [{ name: 'input', in: 'query', required: inputRequired, description: 'the input as URL-encoded JSON', content: json(input, requestExamples) }]
      : [];
    return { get: { ...base, ...(parameters.length ? { parameters } : {}) } };
  }
  const requestBody = input ? { requestBody: { required: inputRequired, content: json(input, requestExamples) } } : {};
  return { post: { ...base, ...requestBody } };
}

/** `rooms.open` → `RoomsOpenResult` */
function schemaName(path: string): string {
  return path.split('.').map((p) => p[0]!.toUpperCase() + p.slice(1)).join('') + 'Result';
}

export function buildOpenApi(version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = { TrpcError: jsonSchema(trpcError, 'draft-2020-12'), Readiness: jsonSchema(readiness, 'draft-2020-12') };
  const router = routerProcedures();
  const documented = new Set(Object.keys(procedures));
  for (const [path, def] of router) {
    const doc = procedures[path];
    if (!doc) throw new Error(`tRPC procedure ${path} has no entry in scripts/contract/procedures.ts`);
    documented.delete(path);
    paths[`/api/trpc/${path}`] = operation(path, def, doc);
    schemas[schemaName(path)] = jsonSchema(doc.output, 'draft-2020-12');
  }
  if (documented.size > 0) throw new Error(`documented procedures missing from the router: ${[...documented].join(', ')}`);

  paths['/healthz'] = {
    get: {
      operationId: 'healthz',
      summary: 'Liveness: 200 while the process lives',
      tags: ['health'],
      security: [{}],
      responses: { '200': { description: 'alive', content: json({ type: 'object', properties: { status: { const: 'ok' } }, required: ['status'] }, { alive: { summary: 'always', value: { status: 'ok' } } }) } },
    },
  };
  paths['/readyz'] = {
    get: {
      operationId: 'readyz',
      summary: 'Readiness: each dependency up / down / embedded; 503 while MySQL is down',
      tags: ['health'],
      security: [{}],
      responses: {
        '200': {
          description: 'ready (MySQL up)',
          content: json(
            { $ref: '#/components/schemas/Readiness' },
            {
              ready: {
                summary: 'a single instance without Kafka and SMTP',
                value: { mysql: 'up', redis: 'up', kafka: 'embedded', smtp: 'embedded', status: 'ready', instance: 'chat-1', dependencies: { mysql: 'up', redis: 'up', kafka: 'embedded', smtp: 'embedded' } },
              },
            },
          ),
        },
        '503': { description: 'MySQL is down', content: json({ $ref: '#/components/schemas/Readiness' }) },
      },
    },
  };

  // photo uploads: multipart in, images out, so no JSON examples (the contract test calls those)
  const uploadError = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/UploadError' } } },
  });
  paths['/api/uploads'] = {
    post: {
      operationId: 'uploadPhoto',
      summary:
        'Upload one photo into a room (members only): the type is decided from the bytes (JPEG, PNG, WebP; HEIC as JPEG when it can be decoded), metadata is stripped, a thumbnail is made. Send its `id` in a message\'s `attachments`.',
      tags: ['uploads'],
      parameters: [{ name: 'roomId', in: 'query', required: true, schema: { type: 'string', format: 'uuid' }, description: 'the room the photo is for' }],
      requestBody: {
        required: true,
        content: { 'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } }, required: ['file'] } } },
      },
      responses: {
        '201': { description: 'stored', content: { 'application/json': { schema: { $ref: '#/components/schemas/UploadView' } } } },
        '400': uploadError('a truncated or damaged image, no `file` field, no roomId'),
        '401': uploadError('no valid token or session'),
        '403': uploadError('not a member of the room'),
        '413': uploadError('over UPLOAD_MAX_BYTES, or over UPLOAD_MAX_PIXELS'),
        '415': uploadError('not an image of an accepted type (decided from the bytes)'),
      },
    },
  };
  for (const [path, what] of [
    ['/api/uploads/{id}', 'the stored image'],
    ['/api/uploads/{id}/thumb', 'the thumbnail'],
  ] as const) {
    paths[path] = {
      get: {
        operationId: path.endsWith('/thumb') ? 'photoThumbnail' : 'photo',
        summary: `${what} behind a signed, expiring link (the \`url\` / \`thumbUrl\` of an upload or of a message's attachment); the signature is the permission`,
        tags: ['uploads'],
        security: [{}],
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'exp', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'sig', in: 'query', required: true, schema: { type: 'string' } },
        ],
        responses: {
          '200': { description: what, content: { 'image/*': { schema: { type: 'string', contentMediaType: 'image/*' } } } },
          '403': uploadError('unsigned, altered or expired link'),
          '404': uploadError('no such image, or its message was deleted'),
        },
      },
    };
  }
  schemas.UploadView = {
    type: 'object',
    properties: {
      id: { type: 'string' },
      contentType: { type: 'string' },
      bytes: { type: 'integer' },
      width: { type: 'integer' },
      height: { type: 'integer' },
      url: { type: 'string', description: 'signed, expiring path of the image' },
      thumbUrl: { type: 'string', description: 'signed, expiring path of the thumbnail' },
    },
    required: ['id', 'contentType', 'bytes', 'width', 'height', 'url', 'thumbUrl'],
  };
  schemas.UploadError = {
    type: 'object',
    properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
    required: ['error'],
  };

  paths['/metrics'] = {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus metrics (text exposition format); with METRICS_TOKEN set it must be sent as a bearer token, without it only loopback callers are answered',
      tags: ['health'],
      security: [{ metricsToken: [] }, {}],
      responses: {
        '200': { description: 'the exposition', content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } } },
        '401': { description: 'METRICS_TOKEN is set and was not sent' },
        '403': { description: 'METRICS_TOKEN is unset and the caller is not on the loopback interface' },
      },
    },
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'Re:Use Chat HTTP API',
      version,
      description: [
        'The tRPC 11 procedures of Re:Use Chat as plain HTTP/JSON (no transformer): ids are strings, times ISO-8601.',
        '',
        '- A **query** is `GET /api/trpc/<procedure>?input=<URL-encoded JSON>` (omit `input` when there is none).',
        '- A **mutation** is `POST /api/trpc/<procedure>` with `Content-Type: application/json` and the input as the body.',
        '- Success: `{"result":{"data":<output>}}`. Failure: `{"error":{"message","code","data":{"code","httpStatus","path","zodError"}}}` with the HTTP status of `data.httpStatus`.',
        '- Several calls may be batched (`/api/trpc/a,b?batch=1&input={"0":…,"1":…}`), answered with an array.',
        '',
        `Example room ids such as \`${EXAMPLE.roomId}\` stand for a room returned by \`rooms.open\`.`,
        'Examples carry `x-caller`: the user whose bearer token makes the call (`admin` has `role: admin`; null: no token).',
        'The real-time side (STOMP, Socket.IO, Kafka) is described in asyncapi.yaml.',
      ].join('\n'),
    },
    servers: [{ url: 'http://localhost:3000', description: 'a local instance (`npm start`)' }],
    tags: [
      { name: 'rooms', description: 'chat rooms between a buyer and a seller about a product' },
      { name: 'history', description: 'stored messages and read marks' },
      { name: 'inquiries', description: 'customer inquiries to support' },
      { name: 'reports', description: "members' reports of users and messages, for moderation" },
      { name: 'uploads', description: 'photos for messages' },
      { name: 'auth', description: 'the caller and socket tokens' },
      { name: 'health', description: 'probes' },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256 JWT with claims sub, name, optional role "admin", exp' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'the value of METRICS_TOKEN' },
        session: { type: 'apiKey', in: 'cookie', name: 'next-auth.session-token', description: 'the web page session (same origin); `__Secure-next-auth.session-token` over HTTPS' },
      },
    },
  };
}
