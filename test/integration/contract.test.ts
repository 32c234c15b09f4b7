/**
 * The published contract (docs/openapi.yaml, docs/asyncapi.yaml): valid for the official parsers,
 * equal to what `npm run docs` generates from the server's zod schemas, naming every tRPC
 * procedure, and every example in it holds against a running server: HTTP examples are called,
 * STOMP and Socket.IO examples are sent, and what comes back is checked against the documents.
 */
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import { validate as validateOpenApi } from '@readme/openapi-parser';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderContract } from '../../scripts/contract/render.js';
import { routerProcedures } from '../../scripts/contract/openapi.js';
import { EXAMPLE } from '../../scripts/contract/schema.js';
import { projectRoot } from '../../server/paths.js';
import { deref, frame, loadDoc, parseFrame, validators, type Doc } from '../helpers/contract.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connectStomp, RawStomp } from '../helpers/stomp.js';
import { tokenFor } from '../helpers/tokens.js';
import { trpcClient } from '../helpers/trpc.js';

const openapi = loadDoc('docs/openapi.yaml');
const asyncapi = loadDoc('docs/asyncapi.yaml');
/** channels with their messages spelled out (the document keeps them in components.messages) */
const asyncChannels = deref(asyncapi.doc, asyncapi.doc.channels) as Doc;
const check2020 = validators('2020-12');
const check07 = validators('draft-07');

let server: TestServer;
let roomId: string;
const tokens: Record<string, string> = {};
const sockets: Socket[] = [];
const raws: RawStomp[] = [];

/** the example room id stands for the room the buyer opened on this server */
const real = <T>(value: T): T => JSON.parse(JSON.stringify(value).replaceAll(EXAMPLE.roomId, roomId)) as T;

beforeAll(async () => {
  server = await startTestServer();
  tokens[EXAMPLE.buyer] = await tokenFor(EXAMPLE.buyer, { name: 'Alice' });
  tokens[EXAMPLE.seller] = await tokenFor(EXAMPLE.seller, { name: 'Bob' });
  tokens[EXAMPLE.stranger] = await tokenFor(EXAMPLE.stranger, { name: 'Carol' });
  tokens.admin = await tokenFor(EXAMPLE.admin, { role: 'admin' });
  const opened = await trpcClient(server.url, { token: tokens[EXAMPLE.buyer] }).mutate('rooms.open', { productId: EXAMPLE.productId, sellerId: EXAMPLE.seller });
  roomId = opened.data.id;
  // message 1 of the examples
  const alice = await connectStomp(server.wsUrl, { Authorization: `Bearer ${tokens[EXAMPLE.buyer]}` });
  await alice.sendWithReceipt(`/pub/room/${roomId}/message`, { content: 'Hi! Is the bike still available?' });
  await alice.disconnect();
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  for (const r of raws) r.ws.terminate();
  await server?.stop();
});

describe('the published contract', () => {
  it('passes the official AsyncAPI 3 and OpenAPI 3.1 parsers', async () => {
    const { document, diagnostics } = await new Parser().parse(asyncapi.text);
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    const result = await validateOpenApi(join(projectRoot(), 'docs/openapi.yaml'));
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(openapi.doc.openapi).toBe('3.1.0');
  });

  it('is exactly what the generator builds from the server schemas (run `npm run docs` after a change)', () => {
    const fresh = renderContract();
    expect(openapi.text).toBe(fresh.openapi);
    expect(asyncapi.text).toBe(fresh.asyncapi);
  });

  it('documents every tRPC procedure of the router, queries as GET and mutations as POST', () => {
    const procedures = routerProcedures();
    expect(procedures.length).toBeGreaterThan(0);
    for (const [path, def] of procedures) {
      const item = openapi.doc.paths[`/api/trpc/${path}`];
      expect(item, `${path} is missing from docs/openapi.yaml`).toBeDefined();
      expect(Object.keys(item)).toEqual([def.type === 'query' ? 'get' : 'post']);
    }
  });

  it('shows only examples that match their own documented schemas', () => {
    let checked = 0;
    for (const [path, item] of Object.entries<Doc>(openapi.doc.paths)) {
      for (const op of Object.values<Doc>(item)) {
        const input = op.parameters?.[0]?.content?.['application/json'] ?? op.requestBody?.content['application/json'];
        for (const [name, ex] of Object.entries<Doc>(input?.examples ?? {})) {
          // an example of refused input (answered with field errors) is invalid on purpose
          const refused = Object.values<Doc>(op.responses).some((r) => r.content?.['application/json']?.examples?.[name]?.value.error?.data.zodError);
          if (refused) continue;
          check2020(deref(openapi.doc, input.schema), ex.value, `${path} request example ${name}`);
          checked++;
        }
        for (const [status, res] of Object.entries<Doc>(op.responses)) {
          const media = res.content?.['application/json'];
          for (const [name, ex] of Object.entries<Doc>(media?.examples ?? {})) {
            check2020(deref(openapi.doc, media.schema), ex.value, `${path} ${status} example ${name}`);
            checked++;
          }
        }
      }
    }
    for (const [key, channel] of Object.entries<Doc>(asyncChannels)) {
      for (const [name, message] of Object.entries<Doc>(channel.messages)) {
        for (const ex of message.examples ?? []) {
          if (ex.payload !== undefined) check07(message.payload ?? {}, ex.payload, `${key}.${name} example payload`);
          if (ex.headers !== undefined) check07(message.headers ?? {}, ex.headers, `${key}.${name} example headers`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('answers every HTTP example with the documented status and a body of the documented shape', async () => {
    const ran: string[] = [];
    for (const [path, item] of Object.entries<Doc>(openapi.doc.paths)) {
      for (const [method, op] of Object.entries<Doc>(item)) {
        const input = op.parameters?.[0]?.content?.['application/json'] ?? op.requestBody?.content['application/json'];
        for (const [status, res] of Object.entries<Doc>(op.responses)) {
          const media = res.content?.['application/json'];
          for (const [name, ex] of Object.entries<Doc>(media?.examples ?? {})) {
            const caller = ex['x-caller'] as string | null | undefined;
            const body = input?.examples?.[name]?.value as unknown;
            const headers: Record<string, string> = caller ? { authorization: `Bearer ${tokens[caller]}` } : {};
            let url = `${server.url}${path}`;
            const init: RequestInit = { method: method.toUpperCase(), headers };
            if (body !== undefined && method === 'get') url += `?input=${encodeURIComponent(JSON.stringify(real(body)))}`;
            // a mutation is always sent as JSON, with or without input (tRPC refuses a POST without a content type)
            if (method === 'post') headers['content-type'] = 'application/json';
            if (body !== undefined && method === 'post') init.body = JSON.stringify(real(body));
            const response = await fetch(url, init);
            const got = (await response.json()) as Doc;
            expect(response.status, `${path} example ${name}: ${JSON.stringify(got)}`).toBe(Number(status));
            check2020(deref(openapi.doc, media.schema), got, `${path} example ${name} response`);
            if (ex.value.error) expect(got.error.data.code).toBe(ex.value.error.data.code);
            ran.push(`${path}#${name}`);
          }
        }
      }
    }
    expect(ran).toContain('/api/trpc/rooms.open#buyerOpens');
    expect(ran.length).toBeGreaterThan(15);
  });

  it('accepts every STOMP example and sends only frames the document describes', async () => {
    const channels = asyncChannels;
    const session = channels.stompSession.messages as Doc;
    const connectExample = session.connect.examples[0];
    const connectAs = async (user: string) => {
      const raw = await RawStomp.open(server.wsUrl, ['v12.stomp']);
      raws.push(raw);
      raw.send(frame('CONNECT', { ...connectExample.headers, Authorization: connectExample.headers.Authorization.replace(EXAMPLE.jwt, tokens[user]) }));
      const connected = parseFrame(await raw.next('CONNECTED'));
      check07(session.connected.headers, connected.headers, 'CONNECTED headers');
      expect(connected.headers['user-name']).toBe(user);
      // the documented answer to the documented CONNECT
      const documented = session.connected.examples[0].headers;
      expect({ version: connected.headers.version, 'heart-beat': connected.headers['heart-beat'] }).toEqual({ version: documented.version, 'heart-beat': documented['heart-beat'] });
      return raw;
    };
    let receipts = 0;
    const withReceipt = async (raw: RawStomp, command: string, headers: Record<string, string>, body = '') => {
      const receipt = headers.receipt ?? `contract-${++receipts}`;
      const from = raw.frames.length;
      raw.send(frame(command, { ...headers, receipt }, body));
      const deadline = Date.now() + 10_000;
      for (;;) {
        const got = raw.frames.slice(from).map(parseFrame).find((f) => f.command === 'RECEIPT' && f.headers['receipt-id'] === receipt);
        if (got) return check07(session.receipt.headers, got.headers, 'RECEIPT headers');
        await raw.next('RECEIPT', Math.max(1, deadline - Date.now()), raw.frames.length);
      }
    };

    const alice = await connectAs(EXAMPLE.buyer);
    for (const ex of session.subscribe.examples) await withReceipt(alice, 'SUBSCRIBE', real(ex.headers));
    const bob = await connectAs(EXAMPLE.seller);
    await withReceipt(bob, 'SUBSCRIBE', { id: 'room', destination: `/sub/chat/room/${roomId}` });
    await withReceipt(bob, 'SUBSCRIBE', { id: 'events', destination: '/user/queue/events' });

    // every documented SEND, as written
    const sendChannels = Object.values<Doc>(channels).filter((c) => Object.values<Doc>(c.messages).some((m) => m['x-stomp-command'] === 'SEND'));
    expect(sendChannels.length).toBeGreaterThanOrEqual(3);
    for (const c of sendChannels) {
      for (const m of Object.values<Doc>(c.messages)) for (const ex of m.examples) await withReceipt(alice, 'SEND', real(ex.headers), JSON.stringify(ex.payload));
    }
    // what makes the other documented events happen: the seller reads, a refused SEND, a deletion
    const latest = JSON.parse(parseFrame(alice.frames.filter((f) => f.startsWith('MESSAGE')).at(-1)!).body) as Doc;
    await withReceipt(bob, 'SEND', { destination: `/pub/room/${roomId}/read`, 'content-type': 'application/json' }, JSON.stringify({ messageId: latest.id ?? '1' }));
    alice.send(frame('SEND', { destination: `/pub/room/${roomId}/message`, 'content-type': 'application/json', receipt: 'refused' }, '{"content":"   ","clientMsgId":"c-7"}'));
    // …and the buyer deletes their latest message
    const ownLatest = alice.frames
      .filter((f) => f.startsWith('MESSAGE'))
      .map((f) => JSON.parse(parseFrame(f).body) as Doc)
      .filter((e) => e.type === 'message' && e.senderId === EXAMPLE.buyer)
      .at(-1)!;
    const deleted = await trpcClient(server.url, { token: tokens[EXAMPLE.buyer] }).mutate('history.delete', { roomId, messageId: ownLatest.id });
    expect(deleted.status).toBe(200);

    // each server-sent destination of the document must have shown every one of its events
    const serverDestinations = Object.entries<Doc>(channels).filter(([, c]) => Object.values<Doc>(c.messages).every((m) => m['x-stomp-command'] === 'MESSAGE'));
    const pattern = (address: string) => new RegExp(`^${address.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    const seen = new Map<string, Set<string>>();
    const deadline = Date.now() + 15_000;
    const missing = () =>
      serverDestinations.flatMap(([key, c]) => Object.values<Doc>(c.messages).map((m) => m.payload.properties.type.const as string).filter((t) => !seen.get(key)?.has(t)).map((t) => `${key}:${t}`));
    while (missing().length > 0 && Date.now() < deadline) {
      seen.clear();
      for (const f of [...alice.frames, ...bob.frames].filter((x) => x.startsWith('MESSAGE'))) {
        const { headers, body } = parseFrame(f);
        const entry = serverDestinations.find(([, c]) => pattern(c.address).test(headers.destination!));
        expect(entry, `MESSAGE to an undocumented destination ${headers.destination}`).toBeDefined();
        const [key, c] = entry!;
        const payload = JSON.parse(body) as Doc;
        const message = Object.values<Doc>(c.messages).find((m) => m.payload.properties.type.const === payload.type);
        expect(message, `${key} sent an undocumented event ${body}`).toBeDefined();
        check07(message!.headers, headers, `${key} MESSAGE headers`);
        check07(message!.payload, payload, `${key} ${payload.type} event`);
        if (!seen.has(key)) seen.set(key, new Set());
        seen.get(key)!.add(payload.type);
      }
      await Promise.race([alice.next('MESSAGE', 200, alice.frames.length).catch(() => undefined), bob.next('MESSAGE', 200, bob.frames.length).catch(() => undefined)]);
    }
    expect(missing()).toEqual([]);
    expect(alice.frames.filter((f) => f.startsWith('RECEIPT') && parseFrame(f).headers['receipt-id'] === 'refused')).toEqual([]);

    // the documented ERROR: a CONNECT whose token is not valid
    const errorExample = session.error.examples[0];
    const stranger = await RawStomp.open(server.wsUrl, ['v12.stomp']);
    raws.push(stranger);
    stranger.send(frame('CONNECT', { ...connectExample.headers, Authorization: 'Bearer not.a.token' }));
    const error = parseFrame(await stranger.next('ERROR'));
    check07(session.error.headers, error.headers, 'ERROR headers');
    expect(error.headers['x-error-code']).toBe(errorExample.headers['x-error-code']);
    await stranger.closed;
  });

  it('acknowledges every Socket.IO example as documented and sends room events of the documented shape', async () => {
    const events: unknown[] = [];
    const socket = ioClient(`${server.url}/chat`, { path: '/socket.io', transports: ['websocket'], auth: { token: tokens[EXAMPLE.buyer] } });
    sockets.push(socket);
    socket.on('room:event', (e) => void events.push(e));
    await new Promise<void>((resolve, reject) => (socket.once('connect', resolve), socket.once('connect_error', reject)));
    const ops = Object.values<Doc>(asyncapi.doc.operations).filter((o) => o.action === 'receive' && o.channel.$ref === '#/channels/chatNamespace');
    // leaving last, so the events of the others are seen
    const messages = ops.map((o) => [deref(asyncapi.doc, o.messages[0]), deref(asyncapi.doc, o.reply.messages[0])] as const);
    messages.sort(([a], [b]) => Number(a.name.endsWith(':leave')) - Number(b.name.endsWith(':leave')));
    expect(messages.length).toBe(5);
    for (const [request, reply] of messages) {
      for (const ex of request.examples) {
        const ack = (await socket.timeout(10_000).emitWithAck(request.name, real(ex.payload))) as Doc;
        check07(reply.payload, ack, `${request.name} acknowledgement`);
        expect(ack, request.name).toMatchObject({ ok: true });
      }
    }
    const roomEvent = asyncChannels.chatNamespace.messages.roomEvent;
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) check07(roomEvent.payload, e, 'room:event');
    expect(events.map((e) => (e as Doc).type)).toContain('message');
  });
});
