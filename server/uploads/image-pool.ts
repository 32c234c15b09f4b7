/**
 * The image processor the service uses: a small pool of child processes running
 * image-worker.ts at a lower CPU priority, so decoding and re-encoding photos (hundreds of
 * milliseconds of CPU each) never takes the CPU from the chat's event loop or MySQL. Children
 * start on the first upload, take one photo at a time, and are replaced when one dies.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';
import { UploadError, UploadErrorCode, type UploadErrorCodeName } from './errors.js';
import type { ImageJob, ImageJobResult } from './image-worker.js';
import type { ImageProcessor, ProcessedImage } from './images.js';

export interface ImagePoolOptions {
  /** child processes, each working on one photo at a time */
  size: number;
  maxPixels: number;
  logger: Logger;
  /** a photo taking longer than this ends its child and is refused as UNAVAILABLE */
  jobTimeoutMs?: number;
}

interface Job {
  id: number;
  input: Buffer;
  resolve(image: ProcessedImage): void;
  reject(err: Error): void;
}

interface Worker {
  child: ChildProcess;
  job: Job | null;
  timer: NodeJS.Timeout | null;
}

/** the compiled server forks the .js file; the TypeScript sources (dev, tests) fork the .ts through tsx */
function workerEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  return { file: join(dirname(here), ts ? 'image-worker.ts' : 'image-worker.js'), execArgv: ts ? ['--import', 'tsx'] : [] };
}

export class ImagePool implements ImageProcessor {
  private readonly workers: Worker[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: ImagePoolOptions) {}

  process(input: Buffer): Promise<ProcessedImage> {
    if (this.closed) return Promise.reject(new UploadError('UNAVAILABLE', 'the server is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, input, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let worker = this.workers.find((w) => w.job === null);
      if (!worker && this.workers.length < this.opts.size) worker = this.spawn();
      if (!worker) return;
      const job = this.queue.shift()!;
      worker.job = job;
      worker.timer = setTimeout(() => {
        this.opts.logger.error({ jobId: job.id }, 'image worker took too long; restarting it');
        worker!.child.kill('SIGKILL');
      }, this.opts.jobTimeoutMs ?? 120_000).unref();
      const msg: ImageJob = { id: job.id, input: job.input, maxPixels: this.opts.maxPixels };
      worker.child.send(msg);
    }
  }

  private spawn(): Worker {
    const { file, execArgv } = workerEntry();
    const child = fork(file, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const worker: Worker = { child, job: null, timer: null };
    this.workers.push(worker);
    const finish = () => {
      if (worker.timer) clearTimeout(worker.timer);
      const job = worker.job;
      worker.job = null;
      worker.timer = null;
      return job;
    };
    child.on('message', (msg: ImageJobResult) => {
      const job = finish();
      if (!job || job.id !== msg.id) return;
      if (msg.ok) {
        const { image } = msg;
        // structured clone hands Buffers back as plain Uint8Arrays
        job.resolve({
          ...image,
          data: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength),
          thumb: { ...image.thumb, data: Buffer.from(image.thumb.data.buffer, image.thumb.data.byteOffset, image.thumb.data.byteLength) },
        });
      } else if (msg.error.code in UploadErrorCode) {
        job.reject(new UploadError(msg.error.code as UploadErrorCodeName, msg.error.message));
      } else {
        job.reject(new Error(`image processing failed: ${msg.error.message}`));
      }
      this.pump();
    });
    child.on('error', (err) => this.opts.logger.error({ err }, 'image worker error'));
    child.once('exit', (code, signal) => {
      const job = finish();
      this.workers.splice(this.workers.indexOf(worker), 1);
      if (job) {
        this.opts.logger.error({ code, signal }, 'image worker exited while processing a photo');
        job.reject(new UploadError('UNAVAILABLE', 'the photo could not be processed, try again'));
      }
      if (!this.closed) this.pump();
    });
    return worker;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new UploadError('UNAVAILABLE', 'the server is shutting down'));
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
            w.child.once('exit', () => resolve());
            w.child.kill('SIGTERM');
          }),
      ),
    );
  }
}
