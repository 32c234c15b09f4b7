/** The transports every instance mounts on its HTTP server, in dispatch order. */
import type { Mount, Service } from './app.js';

export function chatMounts(): Array<(service: Service) => Mount | Promise<Mount>> {
  return [];
}
