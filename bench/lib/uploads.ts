/**
 * Photo-upload load for the bench: a phone-sized JPEG (~3 MB, 4032×3024) and a burst of N
 * concurrent `POST /api/uploads` through plain fetch/multipart, timed from request start to
 * the JSON answer (upload + decode + re-encode + thumbnail + storage + row).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';

/** a 12-megapixel JPEG of about 3 MB (noise upscaled, so it neither compresses to nothing nor is pure noise) */
export async function phoneJpeg(): Promise<Buffer> {
  const w = 4032;
  const h = 3024;
  const f = 8;
  const small = randomBytes(Math.ceil(w / f) * Math.ceil(h / f) * 3);
  return sharp(small, { raw: { width: Math.ceil(w / f), height: Math.ceil(h / f), channels: 3 } })
    .resize(w, h)
    .jpeg({ quality: 85 })
    .toBuffer();
}

export interface UploadBurst {
  uploads: number;
  ok: number;
  failed: number;
  errorSamples: string[];
  bytesEach: number;
  wallMs: number;
  /** input megabytes accepted per second of wall time over the whole burst */
  mbPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  startedAt: number;
  endedAt: number;
}

export async function uploadBurst(
  baseUrl: string,
  targets: Array<{ roomId: string; token: string }>,
  photo: Buffer,
): Promise<UploadBurst> {
  const startedAt = performance.now();
  const errors: string[] = [];
  const times = await Promise.all(
    targets.map(async ({ roomId, token }) => {
      const t0 = performance.now();
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'IMG_0001.jpg');
      try {
        const res = await fetch(`${baseUrl}/api/uploads?roomId=${roomId}`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
        const body = await res.text();
        if (res.status !== 201) throw new Error(`${res.status} ${body.slice(0, 200)}`);
        return performance.now() - t0;
      } catch (err) {
        errors.push((err as Error).message);
        return null;
      }
    }),
  );
  const endedAt = performance.now();
  const ok = times.filter((t): t is number => t !== null).sort((a, b) => a - b);
  const q = (p: number) => Math.round(ok[Math.min(ok.length - 1, Math.ceil((p / 100) * ok.length) - 1)] ?? 0);
  const wallMs = endedAt - startedAt;
  return {
    uploads: targets.length,
    ok: ok.length,
    failed: targets.length - ok.length,
    errorSamples: errors.slice(0, 3),
    bytesEach: photo.length,
    wallMs: Math.round(wallMs),
    mbPerSec: Math.round(((ok.length * photo.length) / 1e6 / (wallMs / 1000)) * 100) / 100,
    latencyMs: { p50: q(50), p90: q(90), p99: q(99), max: Math.round(ok.at(-1) ?? 0) },
    startedAt,
    endedAt,
  };
}
