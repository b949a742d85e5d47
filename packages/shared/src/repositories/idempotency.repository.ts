import type { Db } from './db.js';

export interface StoredResponse {
  requestHash: string;
  status: number;
  body: unknown;
}

export function createIdempotencyRepository(db: Db) {
  return {
    async find(userId: string, key: string): Promise<StoredResponse | undefined> {
      const row = await db
        .selectFrom('idempotency_key')
        .select(['request_hash', 'response_status', 'response_body'])
        .where('user_id', '=', userId)
        .where('key', '=', key)
        .executeTakeFirst();
      return row && { requestHash: row.request_hash, status: row.response_status, body: row.response_body };
    },

    /**
     * Records the response for a key; false when another request recorded one first. Inside a transaction,
     * a concurrent insert of the same key waits here until the first transaction ends: that is what makes two
     * parallel requests with one key produce one effect.
     */
    async insert(userId: string, key: string, response: StoredResponse): Promise<boolean> {
      const row = await db
        .insertInto('idempotency_key')
        .values({ user_id: userId, key, request_hash: response.requestHash, response_status: response.status, response_body: JSON.stringify(response.body) })
        .onConflict((oc) => oc.columns(['user_id', 'key']).doNothing())
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
