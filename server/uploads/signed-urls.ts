/**
 * Signed, expiring image URLs: `/api/uploads/{id}[/thumb]?exp=<unix s>&sig=<HMAC-SHA256>`.
 * The key is derived from AUTH_SECRET, so every instance signs and checks alike. Expiry is
 * rounded up to a whole TTL window so one image keeps the same URL for a while (browsers and
 * apps can cache it); a URL is valid for at least one TTL and at most two.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { UploadError } from './errors.js';

export const UPLOADS_PATH = '/api/uploads';

export type ImageVariant = 'image' | 'thumb';

export class UrlSigner {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    // a key of its own: a URL signature can never be mistaken for anything else signed with the secret
    this.key = createHmac('sha256', secret).update('reuse-chat upload urls v1').digest();
  }

  private sign(id: string, variant: ImageVariant, exp: number): string {
    return createHmac('sha256', this.key).update(`${variant}\n${id}\n${exp}`).digest('base64url');
  }

  /** path and query of a signed URL (relative to the service's origin) */
  url(id: string, variant: ImageVariant): string {
    const nowSec = Math.floor(this.now() / 1000);
    const exp = (Math.floor(nowSec / this.ttlSeconds) + 2) * this.ttlSeconds;
    const path = variant === 'thumb' ? `${UPLOADS_PATH}/${id}/thumb` : `${UPLOADS_PATH}/${id}`;
    return `${path}?exp=${exp}&sig=${this.sign(id, variant, exp)}`;
  }

  /** throws BAD_SIGNATURE unless exp/sig were made by url() for this id and variant and have not expired */
  verify(id: string, variant: ImageVariant, exp: string | null, sig: string | null): { expiresAt: number } {
    if (!exp || !sig) throw new UploadError('BAD_SIGNATURE', 'this image link is not signed: ask the chat for a fresh link');
    if (!/^\d{1,12}$/.test(exp)) throw new UploadError('BAD_SIGNATURE', 'this image link is not valid');
    const expected = Buffer.from(this.sign(id, variant, Number(exp)));
    const given = Buffer.from(sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new UploadError('BAD_SIGNATURE', 'this image link is not valid');
    }
    if (Number(exp) * 1000 <= this.now()) {
      throw new UploadError('BAD_SIGNATURE', 'this image link has expired: ask the chat for a fresh link');
    }
    return { expiresAt: Number(exp) };
  }
}
