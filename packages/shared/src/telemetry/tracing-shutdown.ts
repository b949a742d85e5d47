/**
 * The preload and the app are separate modules (separate bundles in production), so the preload leaves its
 * shutdown where the app finds it: on a global, under a registered symbol.
 */
const KEY = Symbol.for('gemini-chat.tracing.shutdown');
type Holder = { [KEY]?: () => Promise<void> };

export function setTracingShutdown(shutdown: () => Promise<void>): void {
  (globalThis as Holder)[KEY] = shutdown;
}

/** Exports the spans still batched and stops tracing; nothing when tracing is off. Call before process.exit. */
export async function shutdownTracing(timeoutMs = 2000): Promise<void> {
  const shutdown = (globalThis as Holder)[KEY];
  if (!shutdown) return;
  await Promise.race([shutdown().catch(() => {}), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
}
