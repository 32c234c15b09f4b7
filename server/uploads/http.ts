/**
 * The upload routes on the shared HTTP server:
 *   POST /api/uploads?roomId=…        multipart/form-data, one field `file` → UploadView JSON
 *   GET|HEAD /api/uploads/{id}[/thumb]?exp=…&sig=…   the stored image or its thumbnail
 * Uploads carry their own body limit (UPLOAD_MAX_BYTES), checked against Content-Length before
 * anything is read and again while busboy streams the part, so no more than the limit is ever
 * held in memory. The caller is authenticated like tRPC: a Bearer JWT, or the web page's session
 * cookie from an allowed Origin (a cross-site form must not upload as the signed-in user).
 * At most `concurrentUploads` bodies are read at once; later uploads wait with their socket
 * unread (TCP pushes back on the client), so a burst neither fills memory nor floods the event
 * loop with body bytes while the chat shares it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Authenticator } from '../auth/authenticate.js';
import { TokenError, type AuthUser } from '../auth/tokens.js';
import { sendJson } from '../http/health.js';
import type { Logger } from '../logger.js';
import { UploadError } from './errors.js';
import type { UploadService } from './service.js';
import { UPLOADS_PATH, type ImageVariant } from './signed-urls.js';

/** room for the multipart boundaries and part headers around the file itself */
const MULTIPART_OVERHEAD = 16 * 1024;

export interface UploadRoutesOptions {
  uploads: UploadService;
  auth: Authenticator;
  maxBytes: number;
  /** upload bodies read and processed at the same time */
  concurrentUploads: number;
  logger: Logger;
}

/** a counting semaphore: take() resolves when a slot is free */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

export function ownsUploadPath(pathname: string): boolean {
  return pathname === UPLOADS_PATH || pathname.startsWith(`${UPLOADS_PATH}/`);
}

export function createUploadRoutes(opts: UploadRoutesOptions) {
  const { uploads, logger } = opts;
  const slots = new Slots(opts.concurrentUploads);

  /** the one authenticate edge; the cookie counts only from an allowed Origin (a form post from another site would carry it) */
  async function authenticate(req: IncomingMessage): Promise<AuthUser> {
    let who;
    try {
      who = await opts.auth.authenticate({ authorization: req.headers.authorization, request: req, cookieNeedsOrigin: true });
    } catch (err) {
      throw new UploadError('UNAUTHORIZED', err instanceof TokenError ? err.message : 'token is not valid');
    }
    if (!who) throw new UploadError('UNAUTHORIZED', 'sign in first: send Authorization: Bearer <token>');
    return who.user;
  }

  async function upload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const user = await authenticate(req);
    const roomId = await uploads.authorize(user, url.searchParams.get('roomId'));
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > opts.maxBytes + MULTIPART_OVERHEAD) {
      throw tooLarge(opts.maxBytes);
    }
    if (!/^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '')) {
      throw new UploadError('BAD_REQUEST', 'send the photo as multipart/form-data with one field named "file"');
    }
    const release = await slots.take();
    try {
      const bytes = await readFilePart(req, opts.maxBytes);
      const view = await uploads.store(user, roomId, bytes);
      sendJson(res, 201, view);
    } finally {
      release();
    }
  }

  async function read(req: IncomingMessage, res: ServerResponse, pathname: string, url: URL): Promise<void> {
    const m = /^\/api\/uploads\/([^/]+)(\/thumb)?$/.exec(pathname);
    if (!m) throw new UploadError('NOT_FOUND', 'no such image');
    const variant: ImageVariant = m[2] ? 'thumb' : 'image';
    const object = await uploads.open(m[1]!, variant, url.searchParams.get('exp'), url.searchParams.get('sig'));
    const maxAge = Math.max(0, object.expiresAt - Math.floor(Date.now() / 1000));
    res.writeHead(200, {
      'content-type': object.contentType,
      'content-length': object.bytes,
      'cache-control': `private, max-age=${maxAge}, immutable`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
    });
    if (req.method === 'HEAD') {
      object.body.destroy();
      res.end();
      return;
    }
    await pipeline(object.body, res);
  }

  return async function uploadRoutes(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (!ownsUploadPath(pathname)) return false;
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (pathname === UPLOADS_PATH) {
        if (req.method !== 'POST') throw new UploadError('METHOD_NOT_ALLOWED', 'upload with POST /api/uploads?roomId=…');
        await upload(req, res, url);
      } else {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new UploadError('METHOD_NOT_ALLOWED', 'images are read with GET');
        await read(req, res, pathname, url);
      }
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return true;
      }
      if (!(err instanceof UploadError)) logger.error({ err, url: req.url }, 'upload request failed');
      const refusal = err instanceof UploadError ? err : new UploadError('UNAVAILABLE', 'the photo could not be stored, try again');
      refuse(req, res, refusal);
    }
    return true;
  };
}

function tooLarge(maxBytes: number): UploadError {
  return new UploadError('TOO_LARGE', `the photo is larger than ${formatBytes(maxBytes)}`);
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
}

/**
 * Answers with the error. When the body was not read to its end, the connection is closed
 * after the answer: reading the rest would be reading what we just refused, and the
 * connection cannot be reused while it is unread.
 */
function refuse(req: IncomingMessage, res: ServerResponse, err: UploadError): void {
  if (req.method === 'POST' && !req.complete) {
    res.setHeader('connection', 'close');
    res.once('finish', () => {
      req.unpipe();
      // let the client read the answer before the socket goes away under its unsent bytes
      req.resume();
      setTimeout(() => req.socket.destroy(), 2_000).unref();
    });
  }
  if (err.code === 'METHOD_NOT_ALLOWED') res.setHeader('allow', req.url?.split('?')[0] === UPLOADS_PATH ? 'POST' : 'GET, HEAD');
  sendJson(res, err.status, err.toJSON());
}

/** The bytes of the multipart field `file`, streamed and never more than maxBytes of them. */
function readFilePart(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes, fields: 10, parts: 12, headerPairs: 20 } });
    } catch (err) {
      reject(new UploadError('BAD_REQUEST', `not a multipart body: ${(err as Error).message}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let sawFile = false;
    let failed = false;
    const fail = (err: UploadError) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      reject(err);
    };
    parser.on('file', (name, stream) => {
      if (name !== 'file' || sawFile) {
        stream.resume();
        return;
      }
      sawFile = true;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        chunks.push(chunk);
      });
      stream.on('limit', () => {
        chunks.length = 0;
        stream.resume();
        fail(tooLarge(maxBytes));
      });
    });
    parser.on('error', (err: Error) => fail(new UploadError('BAD_REQUEST', `the multipart body is malformed: ${err.message}`)));
    parser.on('close', () => {
      if (failed) return;
      if (!sawFile || size === 0) {
        fail(new UploadError('BAD_REQUEST', 'send the photo in a multipart field named "file"'));
        return;
      }
      resolve(Buffer.concat(chunks, size));
    });
    // the client may have given up while the upload waited for a slot
    const interrupted = () => fail(new UploadError('BAD_REQUEST', 'the upload was interrupted'));
    if (req.destroyed || req.socket.destroyed) return interrupted();
    req.once('close', () => {
      if (!req.complete) interrupted();
    });
    req.pipe(parser);
  });
}
