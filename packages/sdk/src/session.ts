import { GeminiChatError } from './errors.js';
import type { components } from './schema.js';
import type { TokenPair, TokenStore } from './token-store.js';

/** The one thing the client needs from the platform: `globalThis.fetch` or a wrapper of it. */
export type FetchLike = (input: Request) => Promise<Response>;

// Operations that take no bearer token. A 401 from one of them (a wrong password) is an answer, not an expired
// session, so it never triggers a refresh; and the token is not sent where it is not needed.
const PUBLIC_PATHS = new Set([
  '/auth/signup',
  '/auth/send-otp',
  '/auth/verify-otp',
  '/auth/login',
  '/auth/forgot-password',
  '/auth/reset-password',
  '/auth/refresh',
  '/auth/logout',
  '/webhook/stripe',
]);

export interface Session {
  /**
   * `fetch` with `Authorization: Bearer` from the store; on a 401, refreshes once and retries the request once.
   * With an API key: the key, and no refresh (a key has none; a 401 means it is revoked or expired).
   */
  fetch: FetchLike;
  /** Rotates the tokens at POST /auth/refresh. Concurrent callers share one request. */
  refresh(): Promise<TokenPair>;
}

// Responses that carry a new token pair: stored whichever way the call was made (namespaces or `api`).
const ISSUES_TOKENS = new Set(['/auth/verify-otp', '/auth/login', '/auth/change-password', '/auth/refresh']);

export interface SessionOptions {
  baseUrl: string;
  fetch: FetchLike;
  tokens: TokenStore;
  headers: Headers;
  apiKey?: string;
  /** Called once per refused refresh (not once per call that was waiting for it). */
  onSessionExpired?: (error: GeminiChatError) => void | Promise<void>;
}

export function createSession(options: SessionOptions): Session {
  const { baseUrl, fetch: send, tokens, headers, apiKey, onSessionExpired } = options;
  // A relative baseUrl (browsers: "/api") resolves against any origin for this comparison.
  const basePath = new URL(baseUrl, 'http://base.invalid').pathname.replace(/\/+$/, '');
  const operationPath = (url: string) => {
    const path = new URL(url, 'http://base.invalid').pathname;
    return path.startsWith(basePath) ? path.slice(basePath.length) : path;
  };

  let inflight: Promise<TokenPair> | undefined;
  /**
   * One refresh at a time: a refresh token is single use, and presenting it twice revokes the whole session
   * (theft detection), so parallel 401s must share one rotation. `stale` is the access token that was refused:
   * if the store already holds another one, a concurrent caller has refreshed in the meantime and it is reused.
   */
  function refresh(stale?: string): Promise<TokenPair> {
    inflight ??= rotate(stale).finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  async function rotate(stale: string | undefined): Promise<TokenPair> {
    if (apiKey !== undefined) {
      throw GeminiChatError.from(401, { code: 'UNAUTHORIZED', detail: 'This client uses an API key: there are no tokens to refresh.' });
    }
    const current = await tokens.get();
    if (!current) throw GeminiChatError.from(401, { code: 'UNAUTHORIZED', detail: 'Not signed in: there is no refresh token.' });
    if (stale !== undefined && current.accessToken !== stale) return current;
    const request = new Request(`${baseUrl.replace(/\/+$/, '')}/auth/refresh`, {
      method: 'POST',
      headers: withDefaults(headers, { 'content-type': 'application/json', accept: 'application/json' }),
      body: JSON.stringify({ refreshToken: current.refreshToken }),
    });
    const response = await send(request);
    if (!response.ok) {
      const error = await GeminiChatError.fromResponse(response);
      // Refused (invalid, expired, reused): the session is over. Clear it unless another tab or process has
      // stored newer tokens meanwhile. Rate limits, outages and network errors keep the tokens for a later try.
      if (response.status === 400 || response.status === 401) {
        if ((await tokens.get())?.refreshToken === current.refreshToken) await tokens.set(null);
        // Inside the one shared rotation, so the hook runs once however many calls were waiting for it. Not awaited:
        // the calls reject now whatever the hook does (it may navigate away, or never settle).
        try {
          void Promise.resolve(onSessionExpired?.(error)).catch(() => undefined);
        } catch {
          // a throwing hook does not change the answer
        }
      }
      throw error;
    }
    const body = (await response.json()) as components['schemas']['Tokens'];
    const next = { accessToken: body.accessToken, refreshToken: body.refreshToken };
    await tokens.set(next);
    return next;
  }

  /** Stores the tokens a sign-in, password change or refresh answers with; forgets them on logout. */
  async function tokenFetch(request: Request): Promise<Response> {
    const path = operationPath(request.url);
    const loggingOut =
      path === '/auth/logout' ? ((await request.clone().json().catch(() => ({}))) as { refreshToken?: string }).refreshToken : undefined;
    const response = await authFetch(request, path);
    if (!response.ok) return response;
    if (ISSUES_TOKENS.has(path)) {
      const body = (await response.clone().json()) as components['schemas']['Tokens'];
      await tokens.set({ accessToken: body.accessToken, refreshToken: body.refreshToken });
    } else if (loggingOut !== undefined && (await tokens.get())?.refreshToken === loggingOut) {
      await tokens.set(null);
    }
    return response;
  }

  async function authFetch(request: Request, path: string): Promise<Response> {
    if (PUBLIC_PATHS.has(path) || request.headers.has('authorization')) return send(request);
    if (apiKey !== undefined) {
      request.headers.set('authorization', `Bearer ${apiKey}`);
      return send(request);
    }
    const current = await tokens.get();
    if (!current) return send(request);
    // Kept unsent for the one retry: a request body can be read only once.
    const spare = request.clone();
    request.headers.set('authorization', `Bearer ${current.accessToken}`);
    const response = await send(request);
    if (response.status !== 401) return response;
    let fresh: TokenPair;
    try {
      fresh = await refresh(current.accessToken);
    } catch (err) {
      // Refused (reused, invalid, revoked): the caller sees why, with the refresh's own code. A refresh that could
      // not be made (network, 5xx, 429) leaves the original 401 as the answer.
      if (err instanceof GeminiChatError && (err.status === 400 || err.status === 401)) {
        await response.body?.cancel().catch(() => undefined);
        throw err;
      }
      return response;
    }
    await response.body?.cancel().catch(() => undefined);
    spare.headers.set('authorization', `Bearer ${fresh.accessToken}`);
    return send(spare);
  }

  return { fetch: tokenFetch, refresh: () => refresh() };
}

/** `extra` on top of the client's default headers. */
export function withDefaults(defaults: Headers, extra: Record<string, string>): Headers {
  const merged = new Headers(defaults);
  for (const [name, value] of Object.entries(extra)) merged.set(name, value);
  return merged;
}
