import type { Db } from './db.js';
import type { NewUser, UserRow, UserUpdate } from '../db/database.js';

export function createUserRepository(db: Db) {
  return {
    findById(id: string): Promise<UserRow | undefined> {
      return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
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

    async markMobileVerified(id: string): Promise<void> {
      await db
        .updateTable('users')
        .set({ mobile_verified_at: new Date(), updated_at: new Date() })
        .where('id', '=', id)
        .where('mobile_verified_at', 'is', null)
        .execute();
    },
  };
}
export type UserRepository = ReturnType<typeof createUserRepository>;
