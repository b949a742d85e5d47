import { createServer } from 'node:net';

/**
 * A free TCP port on the loopback interface: the OS picks it and nothing listens there once this resolves, so it
 * serves both to start a server of the test's own and as an address that refuses connections (a dependency down).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
