/**
 * A TCP port on 127.0.0.1 that nothing listens on right now. The kernel may hand the port it
 * just freed to the next bind(0), so a port this process was already given is never given
 * again (two ports asked for in a row — a server's and its inspector's — must differ).
 */
import { createServer } from 'node:net';

const given = new Set<number>();

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await bindAndRelease();
    if (!given.has(port)) {
      given.add(port);
      return port;
    }
  }
  throw new Error('no free port found');
}

function bindAndRelease(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
