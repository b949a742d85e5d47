import type { Db } from './db.js';
import type { SessionRow, Tier } from '../db/database.js';

export interface ActiveSession {
  sessionId: string;
  userId: string;
  tier: Tier;
  expiresAt: Date;
}

export interface RefreshTokenLookup {
  id: string;
  sessionId: string;
  userId: string;
  usedAt: Date | null;
  expiresAt: Date;
  sessionRevokedAt: Date | null;
  sessionExpiresAt: Date;
}

export function createSessionRepository(db: Db) {
  return {
    create(input: { userId: string; expiresAt: Date; userAgent: string | null; ip: string | null }): Promise<SessionRow> {
      return db
        .insertInto('session')
        .values({ user_id: input.userId, expires_at: input.expiresAt, user_agent: input.userAgent, ip: input.ip })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    /** The authentication lookup: the session is live and its user's current tier (never trusted from the token). */
    async findActive(sessionId: string, userId: string): Promise<ActiveSession | undefined> {
      const row = await db
        .selectFrom('session')
        .innerJoin('users', 'users.id', 'session.user_id')
        .select(['session.id as session_id', 'users.id as user_id', 'users.tier', 'session.expires_at'])
        .where('session.id', '=', sessionId)
        .where('session.user_id', '=', userId)
        .where('session.revoked_at', 'is', null)
        .where('session.expires_at', '>', new Date())
        // Deletion revokes every session, but one started by a request racing it must not outlive the account.
        .where('users.deleted_at', 'is', null)
        .executeTakeFirst();
      return row && { sessionId: row.session_id, userId: row.user_id, tier: row.tier, expiresAt: row.expires_at };
    },

    async revoke(sessionId: string, reason: string): Promise<void> {
      await db
        .updateTable('session')
        .set({ revoked_at: new Date(), revoke_reason: reason })
        .where('id', '=', sessionId)
        .where('revoked_at', 'is', null)
        .execute();
    },

    async revokeAllForUser(userId: string, reason: string): Promise<number> {
      const result = await db
        .updateTable('session')
        .set({ revoked_at: new Date(), revoke_reason: reason })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    /** Records a refresh and slides the session's expiry. */
    async touch(sessionId: string, expiresAt: Date): Promise<void> {
      await db.updateTable('session').set({ last_refreshed_at: new Date(), expires_at: expiresAt }).where('id', '=', sessionId).execute();
    },

    async insertRefreshToken(sessionId: string, tokenHash: string, expiresAt: Date): Promise<void> {
      await db.insertInto('refresh_token').values({ session_id: sessionId, token_hash: tokenHash, expires_at: expiresAt }).execute();
    },

    async findRefreshToken(tokenHash: string): Promise<RefreshTokenLookup | undefined> {
      const row = await db
        .selectFrom('refresh_token')
        .innerJoin('session', 'session.id', 'refresh_token.session_id')
        .select([
          'refresh_token.id',
          'refresh_token.session_id',
          'refresh_token.used_at',
          'refresh_token.expires_at',
          'session.user_id',
          'session.revoked_at',
          'session.expires_at as session_expires_at',
        ])
        .where('refresh_token.token_hash', '=', tokenHash)
        .executeTakeFirst();
      return (
        row && {
          id: row.id,
          sessionId: row.session_id,
          userId: row.user_id,
          usedAt: row.used_at,
          expiresAt: row.expires_at,
          sessionRevokedAt: row.revoked_at,
          sessionExpiresAt: row.session_expires_at,
        }
      );
    },

    /** Marks a refresh token used; false when someone already used it (the caller treats that as reuse). */
    async markRefreshTokenUsed(id: string): Promise<boolean> {
      const result = await db
        .updateTable('refresh_token')
        .set({ used_at: new Date() })
        .where('id', '=', id)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
export type SessionRepository = ReturnType<typeof createSessionRepository>;
