import { sql } from 'kysely';
import type { Db } from './db.js';
import type { ApiKeyRow, Tier } from '../db/database.js';

/** What a request authenticated with an API key may act as: the key's user and that user's current tier. */
export interface ActiveApiKey {
  keyId: string;
  userId: string;
  tier: Tier;
  expiresAt: Date | null;
}

export function createApiKeyRepository(db: Db) {
  return {
    /**
     * Locks the owner's user row (inside a transaction) so that creating keys for one user takes turns: the count
     * of live keys read next cannot be changed by a parallel create until this transaction ends. False when the
     * user is gone.
     */
    async lockOwner(userId: string): Promise<boolean> {
      const row = await db.selectFrom('users').select('id').where('id', '=', userId).forUpdate().executeTakeFirst();
      return row !== undefined;
    },

    /** Keys that can still be used (not expired). */
    async countLive(userId: string): Promise<number> {
      const row = await db
        .selectFrom('api_key')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('user_id', '=', userId)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    create(input: { userId: string; name: string; prefix: string; keyHash: string; expiresAt: Date | null }): Promise<ApiKeyRow> {
      return db
        .insertInto('api_key')
        .values({ user_id: input.userId, name: input.name, prefix: input.prefix, key_hash: input.keyHash, expires_at: input.expiresAt })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    /** Every key of the user, expired ones included (so they can be seen and deleted), oldest first. */
    list(userId: string): Promise<ApiKeyRow[]> {
      return db.selectFrom('api_key').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
    },

    /** Deletes the user's key; its hash (to announce the revocation) or undefined when the user has no such key. */
    async delete(id: string, userId: string): Promise<string | undefined> {
      const row = await db.deleteFrom('api_key').where('id', '=', id).where('user_id', '=', userId).returning('key_hash').executeTakeFirst();
      return row?.key_hash;
    },

    /** The owner of a key hash, whatever its state: an unchanging fact, so callers may remember it. */
    async ownerOf(keyHash: string): Promise<string | undefined> {
      const row = await db.selectFrom('api_key').select('user_id').where('key_hash', '=', keyHash).executeTakeFirst();
      return row?.user_id;
    },

    /** The authentication lookup: a key that exists and has not expired, with its user's current tier. */
    async findActive(keyHash: string): Promise<ActiveApiKey | undefined> {
      const row = await db
        .selectFrom('api_key')
        .innerJoin('users', 'users.id', 'api_key.user_id')
        .select(['api_key.id', 'api_key.user_id', 'users.tier', 'api_key.expires_at'])
        .where('api_key.key_hash', '=', keyHash)
        // A deleted account's keys die with the deletion, before the job removes the rows.
        .where('users.deleted_at', 'is', null)
        .where((eb) => eb.or([eb('api_key.expires_at', 'is', null), eb('api_key.expires_at', '>', new Date())]))
        .executeTakeFirst();
      return row && { keyId: row.id, userId: row.user_id, tier: row.tier, expiresAt: row.expires_at };
    },

    /**
     * Records a use, at most once a minute per key whichever API process asks (each process also asks at most
     * once a minute), so authenticated traffic does not turn into a write per request.
     */
    async touch(id: string): Promise<void> {
      await db
        .updateTable('api_key')
        .set({ last_used_at: sql`now()` })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`now() - interval '1 minute'`)]))
        .execute();
    },
  };
}
export type ApiKeyRepository = ReturnType<typeof createApiKeyRepository>;
