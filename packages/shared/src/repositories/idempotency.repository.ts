import type { Db } from './db.js';

export interface StoredResponse {
  requestHash: string;
  status: number;
  body: unknown;
}

/** `response_status` of a key claimed by a request that has not recorded its response (never committed as such). */
const CLAIMED = 0;

export function createIdempotencyRepository(db: Db) {
  return {
    /** The response recorded for a key; a claim without a response (see `claim`) is no response. */
    async find(userId: string, key: string): Promise<StoredResponse | undefined> {
      const row = await db
        .selectFrom('idempotency_key')
        .select(['request_hash', 'response_status', 'response_body'])
        .where('user_id', '=', userId)
        .where('key', '=', key)
        .where('response_status', '<>', CLAIMED)
        .executeTakeFirst();
      return row && { requestHash: row.request_hash, status: row.response_status, body: row.response_body };
    },

    /**
     * Claims a key for the request running in this transaction, to be `complete`d before it commits; false when
     * another request recorded a response for it first. A concurrent claim of the same key waits here until the
     * first transaction ends: that is what makes two parallel requests with one key produce one effect. A claim
     * that was committed without a response (left by an older release that committed rejected sends) belongs to
     * no running request, so it is taken over rather than blocking the key for its whole lifetime.
     */
    async claim(userId: string, key: string, requestHash: string): Promise<boolean> {
      const row = await db
        .insertInto('idempotency_key')
        .values({ user_id: userId, key, request_hash: requestHash, response_status: CLAIMED, response_body: '{}' })
        .onConflict((oc) =>
          oc
            .columns(['user_id', 'key'])
            .doUpdateSet({ request_hash: requestHash, response_body: '{}', created_at: new Date() })
            .where('idempotency_key.response_status', '=', CLAIMED),
        )
        .returning('key')
        .executeTakeFirst();
      return row !== undefined;
    },

    /** Fills in the response of a key claimed earlier in the same transaction. */
    async complete(userId: string, key: string, response: StoredResponse): Promise<void> {
      await db
        .updateTable('idempotency_key')
        .set({ request_hash: response.requestHash, response_status: response.status, response_body: JSON.stringify(response.body) })
        .where('user_id', '=', userId)
        .where('key', '=', key)
        .execute();
    },

    async deleteOlderThan(before: Date): Promise<number> {
      const result = await db.deleteFrom('idempotency_key').where('created_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
export type IdempotencyRepository = ReturnType<typeof createIdempotencyRepository>;
