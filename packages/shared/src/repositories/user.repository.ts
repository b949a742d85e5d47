import type { Db } from './db.js';
import type { NewUser, UserRow, UserUpdate } from '../db/database.js';

export function createUserRepository(db: Db) {
  return {
    /** A live user: one whose account was deleted is gone for the application, though its row waits for the deletion job. */
    findById(id: string): Promise<UserRow | undefined> {
      return db.selectFrom('users').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    },

    /** `findById` and the user's token counters for `day` (zero when none), in one statement: GET /user/me. */
    async findWithTokensOn(id: string, day: string): Promise<(UserRow & { inputTokens: number; outputTokens: number }) | undefined> {
      const row = await db
        .selectFrom('users')
        .leftJoin('user_token_usage as t', (join) => join.onRef('t.user_id', '=', 'users.id').on('t.day', '=', day))
        .selectAll('users')
        .select(['t.input_tokens as token_input', 't.output_tokens as token_output'])
        .where('users.id', '=', id)
        .where('users.deleted_at', 'is', null)
        .executeTakeFirst();
      if (!row) return undefined;
      const { token_input: input, token_output: output, ...user } = row;
      return { ...user, inputTokens: Number(input ?? 0), outputTokens: Number(output ?? 0) };
    },

    findByMobileNumber(mobileNumber: string): Promise<UserRow | undefined> {
      return db.selectFrom('users').selectAll().where('mobile_number', '=', mobileNumber).executeTakeFirst();
    },

    /** Inserts the user, or returns undefined when the number is already registered (no exception to catch). */
    insert(user: NewUser): Promise<UserRow | undefined> {
      return db
        .insertInto('users')
        .values(user)
        .onConflict((oc) => oc.column('mobile_number').doNothing())
        .returningAll()
        .executeTakeFirst();
    },

    update(id: string, patch: Omit<UserUpdate, 'id' | 'created_at' | 'updated_at'>): Promise<UserRow | undefined> {
      return db
        .updateTable('users')
        .set({ ...patch, updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    /**
     * The first proof of the number: marks it verified and applies `alsoSet` in the same statement, only while it is
     * still unverified. Undefined when it was verified already; nothing changes then.
     */
    markMobileVerified(id: string, alsoSet: Pick<UserUpdate, 'name' | 'email' | 'password_hash'> = {}): Promise<UserRow | undefined> {
      const now = new Date();
      return db
        .updateTable('users')
        .set({ ...alsoSet, mobile_verified_at: now, updated_at: now })
        .where('id', '=', id)
        .where('mobile_verified_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
    },
  };
}
export type UserRepository = ReturnType<typeof createUserRepository>;
