import type { GoogleGenAI } from '@google/genai';
import type { Config, Logger } from '@gemini-chat/shared';

/** What Gemini's model list says about one model, reduced to what we use (any field may be missing). */
export interface GeminiModelInfo {
  id: string;
  displayName?: string;
  inputTokenLimit?: number;
  outputTokenLimit?: number;
  thinking?: boolean;
}

export interface GeminiModelsClient {
  /** Every model Gemini lists (all pages), by id without the `models/` prefix. */
  list(signal: AbortSignal): Promise<Map<string, GeminiModelInfo>>;
}

/**
 * `models.list` through the real @google/genai SDK, set up as the worker's client is: with GEMINI_BASE_URL it talks
 * to that endpoint (the local fake in dev and tests). The SDK follows nextPageToken itself.
 */
export function createGeminiModelsClient(config: Pick<Config['gemini'], 'apiKey' | 'baseUrl' | 'modelsTimeoutMs'>): GeminiModelsClient {
  // With neither a key nor an endpoint there is nobody to ask (a test, or an API run without Gemini settings): the
  // configured list stands alone, and nothing is sent to Google with a key that cannot work.
  if (!config.apiKey && !config.baseUrl) return { list: async () => new Map() };
  // The SDK is loaded at the first list, not with the API: loaded, it (with google-auth-library) holds ~3 MB of
  // an idle API's heap, and only GET /models (once per cache period) uses it here.
  let ai: Promise<GoogleGenAI> | undefined;
  const sdk = () =>
    (ai ??= import('@google/genai').then(
      ({ GoogleGenAI }) =>
        new GoogleGenAI({
          apiKey: config.apiKey || 'unset',
          httpOptions: { timeout: config.modelsTimeoutMs, ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}) },
        }),
    ));
  return {
    async list(signal) {
      const models = new Map<string, GeminiModelInfo>();
      const pager = await (await sdk()).models.list({ config: { pageSize: 1000, abortSignal: signal } });
      for await (const model of pager) {
        if (!model.name) continue;
        const id = model.name.replace(/^models\//, '');
        models.set(id, {
          id,
          ...(model.displayName ? { displayName: model.displayName } : {}),
          ...(Number.isInteger(model.inputTokenLimit) ? { inputTokenLimit: model.inputTokenLimit } : {}),
          ...(Number.isInteger(model.outputTokenLimit) ? { outputTokenLimit: model.outputTokenLimit } : {}),
          ...(typeof model.thinking === 'boolean' ? { thinking: model.thinking } : {}),
        });
        if (signal.aborted) break;
      }
      return models;
    },
  };
}

export interface GeminiModelCatalog {
  /**
   * Gemini's model list as last fetched, or undefined when it has never been fetched. Never waits longer than the
   * timeout: a fresh copy is answered at once, a stale one too (refreshed behind the caller), and only when there
   * is none yet does a caller wait, for at most the timeout.
   */
  current(): Promise<Map<string, GeminiModelInfo> | undefined>;
  /** Abandons a fetch in flight (process shutdown). */
  close(): void;
}

/** After a failed fetch, ask again after this long (or the cache time, when shorter). */
export const RETRY_AFTER_FAILURE_MS = 30_000;

export function createGeminiModelCatalog(options: {
  client: GeminiModelsClient;
  ttlMs: number;
  timeoutMs: number;
  log: Logger;
  /** The clock; tests move it instead of waiting. */
  now?: () => number;
}): GeminiModelCatalog {
  const { client, ttlMs, timeoutMs, log, now = Date.now } = options;
  let models: Map<string, GeminiModelInfo> | undefined;
  let refreshAt = 0;
  let inFlight: { done: Promise<void>; abort: AbortController } | undefined;

  function refresh(): Promise<void> {
    if (inFlight) return inFlight.done;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`Gemini's model list took over ${timeoutMs} ms`)), timeoutMs);
    const done = client
      .list(abort.signal)
      .then(
        (fetched) => {
          models = fetched;
          refreshAt = now() + ttlMs;
        },
        (err: unknown) => {
          // Whatever was known stays; GET /models answers from it (or from the configuration alone) meanwhile.
          refreshAt = now() + Math.min(ttlMs, RETRY_AFTER_FAILURE_MS);
          log.warn({ err }, 'gemini models: listing failed; serving the configured models without it for now');
        },
      )
      .finally(() => {
        clearTimeout(timer);
        inFlight = undefined;
      });
    inFlight = { done, abort };
    return done;
  }

  return {
    async current() {
      if (now() < refreshAt) return models;
      const done = refresh();
      if (models) return models;
      // Nothing known yet: wait for the first answer, but never past the timeout (the fetch's own abort should
      // end it by then; this bounds the wait even if it does not).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      return models;
    },
    close() {
      inFlight?.abort.abort(new Error('closing'));
    },
  };
}
