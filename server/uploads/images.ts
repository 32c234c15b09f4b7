/**
 * Turns the bytes a client uploaded into what we store: the type is decided from the bytes
 * (never the name or the declared type), only JPEG, PNG and WebP are kept (HEIC becomes JPEG
 * when this machine's libvips can decode it), the image is re-encoded with its orientation
 * applied and every piece of metadata dropped (phone photos carry EXIF GPS positions), and a
 * thumbnail is made. Pure bytes in, bytes out: image-pool.ts runs it in low-priority child
 * processes so decoding photos never competes with the chat for the CPU.
 */
import { fileTypeFromBuffer } from 'file-type';
import sharp, { type Metadata } from 'sharp';
import { UploadError } from './errors.js';

/** the long side of thumbnails, in pixels */
export const THUMB_SIZE = 320;

export interface ProcessedImage {
  contentType: 'image/jpeg' | 'image/png' | 'image/webp';
  data: Buffer;
  width: number;
  height: number;
  thumb: { contentType: 'image/webp'; data: Buffer; width: number; height: number };
}

/** turns uploaded bytes into what is stored; runs in the image workers (image-pool.ts) */
export interface ImageProcessor {
  process(input: Buffer): Promise<ProcessedImage>;
  close(): Promise<void>;
}

// no cache of decoded images between uploads: each photo is seen once
sharp.cache(false);

const ACCEPTED = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/heic', 'image/heif']);

export async function processImage(input: Buffer, maxPixels: number): Promise<ProcessedImage> {
  const type = await fileTypeFromBuffer(input);
  if (!type || !ACCEPTED.has(type.mime)) {
    const what = type ? `${type.mime} files` : 'this file (not an image we recognise)';
    throw new UploadError('UNSUPPORTED_TYPE', `${what} cannot be uploaded: send a JPEG, PNG or WebP photo`);
  }
  const heic = type.mime === 'image/heic' || type.mime === 'image/heif';
  let meta: Metadata;
  try {
    // the header only, without the pixel limit, so a bomb is refused below with its size named
    meta = await sharp(input, { limitInputPixels: false, failOn: 'warning' }).metadata();
  } catch (err) {
    throw decodeError(err, heic);
  }
  const { width, height } = meta;
  if (!width || !height) throw new UploadError('INVALID_IMAGE', 'the image has no size: the file is damaged');
  // the header alone tells the size: refuse before decoding a single pixel
  if (width * height > maxPixels) {
    throw new UploadError(
      'TOO_MANY_PIXELS',
      `the image is ${width}×${height} pixels, more than the limit of ${maxPixels.toLocaleString('en')} pixels`,
    );
  }
  // 'warning' makes a truncated JPEG (libjpeg: "premature end of data") an error instead of a grey half;
  // rotate() applies the EXIF orientation to the pixels; sharp writes no metadata unless asked
  const upright = sharp(input, { limitInputPixels: maxPixels, failOn: 'warning' }).rotate();
  const out = heic || meta.format === 'jpeg' ? 'jpeg' : meta.format === 'png' ? 'png' : 'webp';
  try {
    const main = upright.clone();
    if (out === 'jpeg') main.jpeg({ quality: 85 });
    else if (out === 'png') main.png({ compressionLevel: 6 });
    else main.webp({ quality: 85 });
    const full = await main.toBuffer({ resolveWithObject: true });
    const small = await upright
      .clone()
      .resize({ width: THUMB_SIZE, height: THUMB_SIZE, fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 75 })
      .toBuffer({ resolveWithObject: true });
    return {
      contentType: `image/${out}`,
      data: full.data,
      width: full.info.width,
      height: full.info.height,
      thumb: { contentType: 'image/webp', data: small.data, width: small.info.width, height: small.info.height },
    };
  } catch (err) {
    throw decodeError(err, heic);
  }
}

function decodeError(err: unknown, heic: boolean): UploadError {
  if (err instanceof UploadError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(message)) {
    return new UploadError('TOO_MANY_PIXELS', 'the image has more pixels than this server accepts');
  }
  if (heic) {
    return new UploadError(
      'UNSUPPORTED_TYPE',
      'HEIC photos cannot be decoded on this server: set the camera to "Most Compatible" or send a JPEG',
    );
  }
  return new UploadError('INVALID_IMAGE', `the image could not be read (truncated or damaged file): ${firstLine(message)}`);
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? s).slice(0, 200);
}
