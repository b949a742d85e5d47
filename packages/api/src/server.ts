// The API process: load config, build the app, listen, and shut down gracefully on SIGTERM/SIGINT.
import { loadConfigOrExit, shutdownTracing } from '@gemini-chat/shared';
import { buildApp } from './app.js';

const SHUTDOWN_TIMEOUT_MS = 10_000;

const config = loadConfigOrExit();

const app = await buildApp({ config });

let closing = false;
async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'shutting down');
  // A stuck connection must not keep the process alive for ever.
  const timer = setTimeout(() => {
    app.log.error('graceful shutdown timed out; exiting');
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS);
  timer.unref();
  try {
    await app.close(); // stops accepting, drains in-flight requests, then closes Postgres and Redis
    await shutdownTracing(); // exports the spans still batched
    process.exit(0);
  } catch (err) {
    app.log.error({ err }, 'error during shutdown');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  await app.listen({ host: config.http.host, port: config.http.port });
  app.log.info(`API docs at ${config.http.publicBaseUrl}/docs`);
} catch (err) {
  app.log.error({ err }, 'failed to start');
  process.exit(1);
}
