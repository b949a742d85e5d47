/**
 * Tracing's start, for a process's `--import` preload (packages/api/src/tracing.ts, packages/worker/src/tracing.ts).
 * With tracing off (the default) it reads the config and returns: no SDK is loaded, no module hook registered.
 * With tracing on, it starts the SDK and its instrumentations before the app's first import (see start-tracing.ts).
 */
import { loadConfig, type Config } from '../config/config.js';
import { startTracing } from './start-tracing.js';
import { setTracingShutdown } from './tracing-shutdown.js';

export { startTracing };

export async function preloadTracing(defaultServiceName: string): Promise<void> {
  let tracing: Config['tracing'];
  try {
    tracing = loadConfig().tracing;
  } catch {
    return; // the app itself reports an invalid configuration, and exits
  }
  if (!tracing.enabled || tracing.exporter === 'none') return;
  const running = await startTracing({
    exporter: tracing.exporter,
    serviceName: tracing.serviceName || defaultServiceName,
    ...(tracing.sampler ? { sampler: tracing.sampler } : {}),
  });
  setTracingShutdown(running.shutdown);
}
