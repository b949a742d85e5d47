import { sql } from 'kysely';
import type { Db } from './db.js';
import type { OtpChallengeRow, OtpPurpose } from '../db/database.js';

export function createOtpRepository(db: Db) {
  return {
    /** Serialises every OTP operation on one number for the rest of the transaction. */
    async lockNumber(mobileNumber: string): Promise<void> {
      await sql`select pg_advisory_xact_lock(hashtextextended(${'otp:' + mobileNumber}, 0))`.execute(db);
    },

    async countSendsSince(mobileNumber: string, since: Date): Promise<{ count: number; oldest: Date | null }> {
      const row = await db
        .selectFrom('otp_send')
        .select((eb) => [eb.fn.countAll<string>().as('count'), eb.fn.min('sent_at').as('oldest')])
        .where('mobile_number', '=', mobileNumber)
        .where('sent_at', '>', since)
        .executeTakeFirstOrThrow();
      return { count: Number(row.count), oldest: row.oldest ? new Date(row.oldest) : null };
    },

    async recordSend(mobileNumber: string, purpose: OtpPurpose): Promise<void> {
      await db.insertInto('otp_send').values({ mobile_number: mobileNumber, purpose }).execute();
    },

    async pruneSends(mobileNumber: string, before: Date): Promise<void> {
      await db.deleteFrom('otp_send').where('mobile_number', '=', mobileNumber).where('sent_at', '<', before).execute();
    },

    findChallenge(mobileNumber: string, purpose: OtpPurpose): Promise<OtpChallengeRow | undefined> {
      return db
        .selectFrom('otp_challenge')
        .selectAll()
        .where('mobile_number', '=', mobileNumber)
        .where('purpose', '=', purpose)
        .executeTakeFirst();
    },

    /** Newest unconsumed challenge among `purposes`, locked for the verification that follows. */
    findLatestUnconsumedForUpdate(mobileNumber: string, purposes: OtpPurpose[]): Promise<OtpChallengeRow | undefined> {
      return db
        .selectFrom('otp_challenge')
        .selectAll()
        .where('mobile_number', '=', mobileNumber)
        .where('purpose', 'in', purposes)
        .where('consumed_at', 'is', null)
        .orderBy('created_at', 'desc')
        .limit(1)
        .forUpdate()
        .executeTakeFirst();
    },

    /** Replaces the number's live code for this purpose (one live code per number and purpose). */
    upsertChallenge(mobileNumber: string, purpose: OtpPurpose, codeHash: string, expiresAt: Date): Promise<OtpChallengeRow> {
      const now = new Date();
      return db
        .insertInto('otp_challenge')
        .values({ mobile_number: mobileNumber, purpose, code_hash: codeHash, expires_at: expiresAt, created_at: now })
        .onConflict((oc) =>
          oc.columns(['mobile_number', 'purpose']).doUpdateSet({
            code_hash: codeHash,
            expires_at: expiresAt,
            attempts: 0,
            consumed_at: null,
            created_at: now,
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    async incrementAttempts(id: string): Promise<number> {
      const row = await db
        .updateTable('otp_challenge')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('id', '=', id)
        .returning('attempts')
        .executeTakeFirstOrThrow();
      return row.attempts;
    },

    async consume(id: string): Promise<void> {
      await db.updateTable('otp_challenge').set({ consumed_at: new Date() }).where('id', '=', id).execute();
    },
  };
}
export type OtpRepository = ReturnType<typeof createOtpRepository>;
