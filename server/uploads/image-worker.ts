/**
 * Entry of one image-pool child process: lowers its own CPU priority, then processes one photo
 * per IPC message and answers with the result or the refusal's code and message.
 */
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { UploadError } from './errors.js';
import { processImage, type ProcessedImage } from './images.js';

export interface ImageJob {
  id: number;
  input: Uint8Array;
  maxPixels: number;
}

export type ImageJobResult =
  | { id: number; ok: true; image: ProcessedImage }
  | { id: number; ok: false; error: { code: string; message: string } };

/** nice 10: about a tenth of a core's share while the chat (nice 0) wants the CPU, all of it when idle */
export const IMAGE_WORKER_NICE = 10;

/**
 * On Linux the nice value belongs to each thread, and Node has started several (V8 platform,
 * libuv pool) before this code runs; libvips starts its own from the libuv pool threads.
 * So every current thread is reniced; threads created later inherit from a niced creator.
 */
function lowerPriority(): void {
  try {
    for (const tid of readdirSync('/proc/self/task')) setPriority(Number(tid), IMAGE_WORKER_NICE);
  } catch {
    try {
      setPriority(IMAGE_WORKER_NICE);
    } catch {
      // not permitted here: the work still runs, only at normal priority
    }
  }
}
lowerPriority();

const reply = (msg: ImageJobResult) => process.send?.(msg);

process.on('message', (job: ImageJob) => {
  // cheap (a dozen threads), and catches any thread started since by an unniced one
  lowerPriority();
  const input = Buffer.from(job.input.buffer, job.input.byteOffset, job.input.byteLength);
  processImage(input, job.maxPixels).then(
    (image) => reply({ id: job.id, ok: true, image }),
    (err: unknown) =>
      reply({
        id: job.id,
        ok: false,
        error:
          err instanceof UploadError
            ? { code: err.code, message: err.message }
            : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) },
      }),
  );
});
// the server went away: nothing left to do
process.on('disconnect', () => process.exit(0));
