/**
 * Chat from a terminal over STOMP (@stomp/stompjs, like the mobile apps):
 *   npm run chat -- --user alice --seller bob --product bike-1    opens (or finds) the room as buyer
 *   npm run chat -- --user bob --room <roomId>                      joins an existing room
 * Options: --url http://localhost:3000, --since <messageId> (replay after that id).
 * Lines typed on stdin are sent; each is confirmed with ✓ when its RECEIPT (stored) arrives.
 * `/photo path/to/image.jpg [caption]` uploads the photo (POST /api/uploads) and sends it.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';
import { TokenService } from '../server/auth/tokens.js';
import { loadEnv } from '../server/env.js';

const { values } = parseArgs({
  options: {
    user: { type: 'string' },
    room: { type: 'string' },
    seller: { type: 'string' },
    product: { type: 'string' },
    url: { type: 'string', default: 'http://localhost:3000' },
    since: { type: 'string' },
  },
});
if (!values.user || (!values.room && !(values.seller && values.product))) {
  console.error('usage: npm run chat -- --user ID (--room ROOM_ID | --seller ID --product ID) [--url URL] [--since MESSAGE_ID]');
  process.exit(2);
}
const user = values.user;
const base = values.url.replace(/\/$/, '');
const token = await new TokenService(loadEnv().AUTH_SECRET).issue({ id: user, name: user }, 24 * 3600);

async function trpc(path: string, input: unknown, method: 'GET' | 'POST') {
  const url = method === 'GET' ? `${base}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}` : `${base}/api/trpc/${path}`;
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: JSON.stringify(input) } : {}),
  });
  const body = (await res.json()) as { result?: { data: any }; error?: { message: string } };
  if (body.error) throw new Error(`${path}: ${body.error.message}`);
  return body.result!.data;
}

let roomId = values.room;
if (!roomId) {
  const room = await trpc('rooms.open', { productId: values.product, sellerId: values.seller }, 'POST');
  roomId = room.id as string;
}
const room = await trpc('rooms.get', { roomId }, 'GET');
console.log(`room ${roomId} — ${room.productId}, you are the ${room.role}, talking with ${room.counterpart.name}`);
const recent = await trpc('history.list', { roomId, limit: 20 }, 'GET');
let lastId: string | undefined = values.since ?? recent.messages[0]?.id;
for (const m of [...recent.messages].reverse()) print(m);

function time(iso: string) {
  return new Date(iso).toLocaleTimeString();
}
function print(m: { senderId: string; content: string; createdAt: string; deleted?: boolean; attachments?: Array<{ url: string }> }) {
  const photos = (m.attachments ?? []).map((a) => ` [photo ${base}${a.url}]`).join('');
  const text = m.deleted ? '(message deleted)' : `${m.content}${photos}`;
  console.log(`[${time(m.createdAt)}] ${m.senderId === user ? 'you' : m.senderId}: ${text}`);
}

/** uploads a photo into the room; the id goes into the message's `attachments` */
async function uploadPhoto(path: string): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(await readFile(path))]), basename(path));
  const res = await fetch(`${base}/api/uploads?roomId=${encodeURIComponent(roomId!)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const body = (await res.json()) as { id?: string; error?: string };
  if (!res.ok || !body.id) throw new Error(`upload of ${path}: ${body.error ?? res.status}`);
  return body.id;
}

const wsUrl = `${base.replace(/^http/, 'ws')}/ws-stomp`;
const client = new Client({
  webSocketFactory: () => new WebSocket(wsUrl, ['v12.stomp']),
  connectHeaders: { Authorization: `Bearer ${token}` },
  heartbeatIncoming: 10_000,
  heartbeatOutgoing: 10_000,
  reconnectDelay: 1_000,
  debug: () => {},
});
client.onConnect = () => {
  // resubscribe from the last message seen, so a reconnect misses nothing
  client.subscribe(
    `/sub/chat/room/${roomId}`,
    (frame) => {
      const e = JSON.parse(frame.body);
      if (e.type === 'message') {
        if (lastId && BigInt(e.id) <= BigInt(lastId)) return;
        lastId = e.id;
        if (e.senderId !== user) print(e);
      } else if (e.type === 'deleted') console.log(`  (message ${e.messageId} was deleted)`);
      else if (e.type === 'typing' && e.userId !== user) console.log(`  … ${e.userId} is typing`);
      else if (e.type === 'read' && e.userId !== user) console.log(`  ✓✓ read by ${e.userId}`);
      else if (e.type === 'presence' && e.userId !== user) console.log(`  ${e.userId} is ${e.online ? 'online' : 'offline'}`);
    },
    lastId ? { 'x-since': lastId } : {},
  );
  client.subscribe('/user/queue/errors', (frame) => console.log(`  ✗ ${JSON.parse(frame.body).message}`));
  console.log('connected — type a message and press Enter (Ctrl+D to quit)');
  for (const m of waiting.splice(0)) send(m.content, m.attachments);
};
client.onWebSocketClose = () => console.log('  (disconnected, reconnecting…)');
client.onStompError = (f) => console.log(`  ERROR ${f.headers.message}: ${f.body}`);
client.activate();

let pendingReceipts = 0;
// lines typed while (re)connecting wait here and go out once connected
const waiting: Array<{ content: string; attachments: string[] }> = [];
function send(content: string, attachments: string[] = []) {
  const receipt = randomUUID();
  pendingReceipts++;
  client.watchForReceipt(receipt, () => {
    pendingReceipts--;
    console.log(`  ✓ ${content.slice(0, 40)}${attachments.length > 0 ? ' [photo]' : ''}`);
  });
  client.publish({
    destination: `/pub/room/${roomId}/message`,
    headers: { receipt, 'content-type': 'application/json' },
    body: JSON.stringify({ content, clientMsgId: randomUUID(), ...(attachments.length > 0 ? { attachments } : {}) }),
  });
}

const rl = createInterface({ input: process.stdin });
// lines are handled one after another, so a photo still uploading keeps its place in the conversation
let handling: Promise<void> = Promise.resolve();
async function handle(line: string) {
  let content = line.trim();
  if (!content) return;
  const attachments: string[] = [];
  const photo = /^\/photo\s+(\S+)\s*(.*)$/.exec(content);
  if (photo) {
    attachments.push(await uploadPhoto(photo[1]!));
    content = photo[2] ?? '';
  }
  if (client.connected) send(content, attachments);
  else waiting.push({ content, attachments });
}
rl.on('line', (line) => {
  handling = handling.then(() => handle(line)).catch((err: Error) => console.log(`  ✗ ${err.message}`));
});
// stdin closed (Ctrl+D, or the end of piped input): finish sending, then leave
rl.on('close', () => {
  let busy = true;
  void handling.finally(() => (busy = false));
  const leave = () => void client.deactivate().then(() => process.exit(0));
  const check = setInterval(() => {
    if (waiting.length === 0 && pendingReceipts === 0 && !busy) {
      clearInterval(check);
      leave();
    }
  }, 100);
});
