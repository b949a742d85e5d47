import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import jwt from '@fastify/jwt';
import { unauthorized, type Config, type Tier } from '@gemini-chat/shared';
import type { AccessClaims } from '../services/auth.service.js';
import type { SessionCache } from '../lib/session-cache.js';

export interface AuthContext {
  userId: string;
  sessionId: string;
  /** From the database (through the session cache), never from the token: an upgrade applies at once. */
  tier: Tier;
}

declare module 'fastify' {
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Verified access tokens remembered per process (bounded; the oldest goes first). */
const MAX_VERIFIED_TOKENS = 10_000;

const JWT_ERRORS: Record<string, [code: string, message: string]> = {
  FST_JWT_NO_AUTHORIZATION_IN_HEADER: ['UNAUTHORIZED', 'Missing Authorization: Bearer <accessToken> header.'],
  FST_JWT_BAD_REQUEST: ['UNAUTHORIZED', 'Malformed Authorization header; expected "Bearer <accessToken>".'],
  FST_JWT_AUTHORIZATION_TOKEN_EXPIRED: ['TOKEN_EXPIRED', 'The access token has expired; refresh it at POST /auth/refresh.'],
};

export const authPlugin = fp(async (app: FastifyInstance, opts: { config: Config['auth']; sessions: SessionCache }) => {
  const { config, sessions } = opts;
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

  async function verify(request: FastifyRequest): Promise<AccessClaims> {
    const header = request.headers.authorization;
    const known = header ? verified.get(header) : undefined;
    if (known && known.expiresAtMs > Date.now()) return known.claims;
    let claims: AccessClaims & { exp?: number };
    try {
      claims = await request.jwtVerify<AccessClaims & { exp?: number }>();
    } catch (err) {
      if (header) verified.delete(header);
      const [code, message] = JWT_ERRORS[(err as { code?: string }).code ?? ''] ?? ['UNAUTHORIZED', 'The access token is invalid.'];
      throw unauthorized(message, code);
    }
    if (header && typeof claims.exp === 'number') {
      if (verified.size >= MAX_VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
      verified.set(header, { claims, expiresAtMs: claims.exp * 1000 });
    }
    return claims;
  }

  app.decorate('authenticate', async (request: FastifyRequest) => {
    const claims = await verify(request);
    if (!UUID.test(String(claims.sub)) || !UUID.test(String(claims.sid))) throw unauthorized('The access token is invalid.');
    const session = await sessions.find(claims.sid, claims.sub);
    if (!session) throw unauthorized('This session has been signed out or revoked; sign in again.', 'SESSION_REVOKED');
    request.auth = { userId: session.userId, sessionId: session.sessionId, tier: session.tier };
  });
});
