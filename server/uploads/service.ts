/**
 * Photo uploads: who may upload into a room, turning the bytes into a stored image and
 * thumbnail plus one `uploads` row, and reading them back through signed URLs. Nothing is
 * left stored when any step fails: both objects are written before the row, and removed
 * again when a later step throws.
 */
import { randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { AuthUser } from '../auth/tokens.js';
import type { Db } from '../db/client.js';
import { messages, roomMembers, uploads } from '../db/schema.js';
import type { UploadRow } from '../db/types.js';
import type { Logger } from '../logger.js';
import { UploadError } from './errors.js';
import type { ImageProcessor } from './images.js';
import type { ImageVariant, UrlSigner } from './signed-urls.js';
import type { StoredObject, UploadStorage } from './storage.js';

/** what a client is told about an upload (docs/contract.md: Photos) */
export interface UploadView {
  id: string;
  contentType: string;
  bytes: number;
  width: number;
  height: number;
  url: string;
  thumbUrl: string;
}

export type IsMember = (roomId: string, userId: string) => Promise<boolean>;

/** Membership straight from room_members (a member who left has no access). */
export function roomMembership(db: Db): IsMember {
  return async (roomId, userId) => {
    const rows = await db
      .select({ userId: roomMembers.userId })
      .from(roomMembers)
      .where(and(eq(roomMembers.roomId, roomId), eq(roomMembers.userId, userId), isNull(roomMembers.leftAt)))
      .limit(1);
    return rows.length > 0;
  };
}

export interface UploadServiceDeps {
  db: Db;
  storage: UploadStorage;
  images: ImageProcessor;
  signer: UrlSigner;
  isMember: IsMember;
  logger: Logger;
}

const ROOM_ID = /^[A-Za-z0-9_-]{1,36}$/;
const UPLOAD_ID = /^[A-Za-z0-9_-]{22}$/;

export class UploadService {
  constructor(private readonly deps: UploadServiceDeps) {}

  /** refuses unless the user is a member of the room; called before the body is read */
  async authorize(user: AuthUser, roomId: string | null): Promise<string> {
    if (!roomId) throw new UploadError('BAD_REQUEST', 'roomId is missing: POST /api/uploads?roomId=<room id>');
    if (!ROOM_ID.test(roomId)) throw new UploadError('BAD_REQUEST', 'roomId is not a room id');
    if (!(await this.deps.isMember(roomId, user.id))) {
      throw new UploadError('FORBIDDEN', 'only members of this room can upload photos into it');
    }
    return roomId;
  }

  /** processes and stores one photo for a member of the room (see authorize) */
  async store(user: AuthUser, roomId: string, input: Buffer): Promise<UploadView> {
    const image = await this.deps.images.process(input);
    const id = randomBytes(16).toString('base64url');
    const storageKey = `${roomId}/${id}`;
    const thumbKey = `${roomId}/${id}.thumb`;
    const written: string[] = [];
    try {
      await this.deps.storage.put(storageKey, image.data, image.contentType);
      written.push(storageKey);
      await this.deps.storage.put(thumbKey, image.thumb.data, image.thumb.contentType);
      written.push(thumbKey);
      const row = {
        id,
        roomId,
        uploaderId: user.id,
        contentType: image.contentType,
        bytes: image.data.length,
        width: image.width,
        height: image.height,
        storageKey,
        thumbKey,
        thumbContentType: image.thumb.contentType,
      };
      await this.deps.db.insert(uploads).values(row);
      return this.view(row);
    } catch (err) {
      await this.removeObjects(written);
      throw err;
    }
  }

  /** the client's view of a stored upload, with freshly signed URLs */
  view(row: Pick<UploadRow, 'id' | 'contentType' | 'bytes' | 'width' | 'height'>): UploadView {
    return {
      id: row.id,
      contentType: row.contentType,
      bytes: row.bytes,
      width: row.width,
      height: row.height,
      url: this.deps.signer.url(row.id, 'image'),
      thumbUrl: this.deps.signer.url(row.id, 'thumb'),
    };
  }

  /** the bytes behind a signed URL; the signature is checked before anything is looked up */
  async open(
    id: string,
    variant: ImageVariant,
    exp: string | null,
    sig: string | null,
  ): Promise<StoredObject & { contentType: string; expiresAt: number }> {
    if (!UPLOAD_ID.test(id)) throw new UploadError('NOT_FOUND', 'no such image');
    const { expiresAt } = this.deps.signer.verify(id, variant, exp, sig);
    const [found] = await this.deps.db
      .select({ upload: uploads, deletedAt: messages.deletedAt })
      .from(uploads)
      .leftJoin(messages, eq(messages.id, uploads.messageId))
      .where(eq(uploads.id, id))
      .limit(1);
    if (!found) throw new UploadError('NOT_FOUND', 'no such image');
    // a photo of a deleted message is gone for everyone, also behind links handed out before
    if (found.deletedAt) throw new UploadError('NOT_FOUND', 'the message with this image was deleted');
    const row = found.upload;
    const key = variant === 'thumb' ? row.thumbKey : row.storageKey;
    const object = await this.deps.storage.get(key);
    if (!object) throw new UploadError('NOT_FOUND', 'the image is no longer stored');
    return { ...object, contentType: variant === 'thumb' ? row.thumbContentType : row.contentType, expiresAt };
  }

  private async removeObjects(keys: string[]): Promise<void> {
    for (const key of keys) {
      try {
        await this.deps.storage.delete(key);
      } catch (err) {
        this.deps.logger.error({ err, key }, 'could not remove the stored object of a failed upload');
      }
    }
  }
}
