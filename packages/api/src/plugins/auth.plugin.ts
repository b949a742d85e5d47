import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import jwt from '@fastify/jwt';
import { AppError, unauthorized, type Config, type ErrorCode, type Tier } from '@gemini-chat/shared';
import type { AccessClaims } from '../services/auth.service.js';
import { isUuid } from '../lib/cursor.js';
import type { SessionCache } from '../lib/session-cache.js';
import { API_KEY_PREFIX, hashApiKey, isWellFormedApiKey, type ApiKeyCache } from '../lib/api-keys.js';

export interface AuthContext {
  userId: string;
  /** The signed-in session; null when the request carries an API key instead of an access token. */
  sessionId: string | null;
  /** The API key the request carries, if it does. */
  apiKeyId?: string;
  /** From the database (through the session cache), never from the token: an upgrade applies at once. */
  tier: Tier;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `true`: the route also accepts an API key (`Authorization: Bearer gck_…`) in place of an access token. Off
     * unless a route opts in: everywhere else a key is refused with 403 API_KEY_NOT_ALLOWED (auth, account,
     * billing and key management must stay in the hands of a signed-in person).
     */
    apiKey?: boolean;
  }
  interface FastifyRequest {
    auth: AuthContext;
  }
  interface FastifyInstance {
    /** onRequest hook for protected routes: verifies the bearer token and that its session is still live. */
    authenticate(request: FastifyRequest): Promise<void>;
    signAccessToken(claims: AccessClaims): string;
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessClaims;
    user: AccessClaims;
  }
}


/** Verified access tokens remembered per process (bounded; the oldest goes first). */
const MAX_VERIFIED_TOKENS = 10_000;

const JWT_ERRORS: Record<string, [code: ErrorCode, message: string]> = {
  FST_JWT_NO_AUTHORIZATION_IN_HEADER: ['UNAUTHORIZED', 'Missing Authorization: Bearer <accessToken> header.'],
  FST_JWT_BAD_REQUEST: ['UNAUTHORIZED', 'Malformed Authorization header; expected "Bearer <accessToken>".'],
  FST_JWT_AUTHORIZATION_TOKEN_EXPIRED: ['TOKEN_EXPIRED', 'The access token has expired; refresh it at POST /auth/refresh.'],
};

/** The API key in an `Authorization: Bearer gck_…` header, well formed or not; undefined for anything else. */
function presentedApiKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  // Runs on every request: a header without the prefix anywhere (no header, an access token) needs no regex.
  if (header === undefined || !header.includes(API_KEY_PREFIX)) return undefined;
  const match = /^Bearer +(\S+)$/i.exec(header);
  return match?.[1]?.startsWith(API_KEY_PREFIX) ? match[1] : undefined;
}

const apiKeyNotAllowed = () =>
  new AppError(403, 'API_KEY_NOT_ALLOWED', 'API keys cannot be used on this route; sign in and use an access token.');

export const authPlugin = fp(async (app: FastifyInstance, opts: { config: Config['auth']; sessions: SessionCache; apiKeys: ApiKeyCache }) => {
  const { config, sessions, apiKeys } = opts;
  await app.register(jwt, {
    secret: config.jwtSecret,
    sign: { algorithm: 'HS256', iss: config.issuer, aud: config.audience, expiresIn: config.accessTokenTtlSeconds },
    verify: { algorithms: ['HS256'], allowedIss: config.issuer, allowedAud: config.audience },
  });

  app.decorateRequest('auth', null as unknown as AuthContext);
  app.decorate('signAccessToken', (claims: AccessClaims) => app.jwt.sign(claims));
  // Checking a token's signature and claims is most of an authenticated request's CPU: a client sends the same
  // token for its whole lifetime, so each process checks it once and then only compares the exact string and
  // its expiry. Only tokens that passed the full check are remembered, so nothing can be forged through this.
  const verified = new Map<string, { claims: AccessClaims; expiresAtMs: number }>();

  /** The full check, for a token this process has not verified yet (or whose copy expired). */
  async function verify(request: FastifyRequest, header: string | undefined): Promise<AccessClaims> {
    let claims: AccessClaims & { exp?: number };
    try {
      claims = await request.jwtVerify<AccessClaims & { exp?: number }>();
    } catch (err) {
      if (header) verified.delete(header);
      const [code, message] = JWT_ERRORS[(err as { code?: string }).code ?? ''] ?? (['UNAUTHORIZED', 'The access token is invalid.'] as const);
      throw unauthorized(message, code);
    }
    // Checked once per token, before it is remembered: a remembered token's ids are known to be well formed.
    if (!isUuid(String(claims.sub)) || !isUuid(String(claims.sid))) throw unauthorized('The access token is invalid.');
    if (header && typeof claims.exp === 'number') {
      if (verified.size >= MAX_VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
      verified.set(header, { claims, expiresAtMs: claims.exp * 1000 });
    }
    return claims;
  }

  // Every route, authenticated or not, refuses a key unless it opted in: a key on /auth/... or a webhook is a
  // mistake or an attempt, and saying so beats ignoring it. Routes that match nothing answer their 404.
  // Callback form, not async: it runs on every request and never waits.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.is404 || request.routeOptions.config.apiKey === true || presentedApiKey(request) === undefined) return done();
    done(apiKeyNotAllowed());
  });

  async function authenticateApiKey(request: FastifyRequest, presented: string): Promise<void> {
    if (request.routeOptions.config.apiKey !== true) throw apiKeyNotAllowed();
    // A malformed key is refused without a lookup.
    const key = isWellFormedApiKey(presented) ? await apiKeys.find(hashApiKey(presented)) : undefined;
    if (!key) throw unauthorized('The API key is invalid, expired or revoked.', 'INVALID_API_KEY');
    apiKeys.used(key);
    request.auth = { userId: key.userId, sessionId: null, apiKeyId: key.keyId, tier: key.tier };
  }

  app.decorate('authenticate', async (request: FastifyRequest) => {
    const presented = presentedApiKey(request);
    if (presented !== undefined) return authenticateApiKey(request, presented);
    const header = request.headers.authorization;
    const known = header ? verified.get(header) : undefined;
    // A remembered token costs no promise of its own: most authenticated requests end here.
    const claims = known && known.expiresAtMs > Date.now() ? known.claims : await verify(request, header);
    const session = await sessions.find(claims.sid, claims.sub);
    if (!session) throw unauthorized('This session has been signed out or revoked; sign in again.', 'SESSION_REVOKED');
    request.auth = { userId: session.userId, sessionId: session.sessionId, tier: session.tier };
  });
});
