/**
 * A free TCP port on 127.0.0.1 for a server a test starts as a separate process, and a retry
 * around starting it: the port is only probed free, and another process may take it before the
 * server binds it.
 */
import { createServer } from 'node:net';

/** Attempts at a free port before giving up. */
const START_ATTEMPTS = 3;

/** A port the OS just handed out on 127.0.0.1 and that is closed again. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * `start` on a fresh free port, up to START_ATTEMPTS times; `start` must clean up after itself
 * when it fails (a server that lost its port exits or never accepts connections).
 */
export async function startOnFreePort<T>(what: string, start: (port: number) => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    try {
      return await start(await freePort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError ?? new Error(`${what} did not start`);
}
