import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import jwt from '@fastify/jwt';
import { unauthorized, type Config, type Store, type Tier } from '@gemini-chat/shared';
import type { AccessClaims } from '../services/auth.service.js';

export interface AuthContext {
  userId: string;
  sessionId: string;
  /** Read from the database on every request, never from the token: an upgrade applies at once. */
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

const JWT_ERRORS: Record<string, [code: string, message: string]> = {
  FST_JWT_NO_AUTHORIZATION_IN_HEADER: ['UNAUTHORIZED', 'Missing Authorization: Bearer <accessToken> header.'],
  FST_JWT_BAD_REQUEST: ['UNAUTHORIZED', 'Malformed Authorization header; expected "Bearer <accessToken>".'],
  FST_JWT_AUTHORIZATION_TOKEN_EXPIRED: ['TOKEN_EXPIRED', 'The access token has expired; refresh it at POST /auth/refresh.'],
};

export const authPlugin = fp(async (app: FastifyInstance, opts: { config: Config['auth']; store: Store }) => {
  const { config, store } = opts;
  await app.register(jwt, {
    secret: config.jwtSecret,
    sign: { algorithm: 'HS256', iss: config.issuer, aud: config.audience, expiresIn: config.accessTokenTtlSeconds },
    verify: { algorithms: ['HS256'], allowedIss: config.issuer, allowedAud: config.audience },
  });

  app.decorateRequest('auth', null as unknown as AuthContext);
  app.decorate('signAccessToken', (claims: AccessClaims) => app.jwt.sign(claims));
  app.decorate('authenticate', async (request: FastifyRequest) => {
    let claims: AccessClaims;
    try {
      claims = await request.jwtVerify<AccessClaims>();
    } catch (err) {
      const [code, message] = JWT_ERRORS[(err as { code?: string }).code ?? ''] ?? ['UNAUTHORIZED', 'The access token is invalid.'];
      throw unauthorized(message, code);
    }
    if (!UUID.test(String(claims.sub)) || !UUID.test(String(claims.sid))) throw unauthorized('The access token is invalid.');
    const session = await store.sessions.findActive(claims.sid, claims.sub);
    if (!session) throw unauthorized('This session has been signed out or revoked; sign in again.', 'SESSION_REVOKED');
    request.auth = session;
  });
});
