import { sql, type Kysely } from 'kysely';

// Frozen history: never edit after it has shipped; add a new migration instead.
//
// Account deletion happens in two steps. DELETE /user/me marks the user deleted in one transaction (sessions
// revoked, mobile number released, codes gone), then a job removes the stored files and finally the row itself,
// whose deletion cascades to everything else the user owns. `deleted_at` marks the rows between the two steps.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('deleted_at', 'timestamptz').execute();
  // The sweep's lookup: deletions whose job has not finished yet.
  await db.schema
    .createIndex('users_deleted_at_idx')
    .on('users')
    .column('deleted_at')
    .where(sql.ref('deleted_at'), 'is not', null)
    .execute();
  // A code that proves the number before the account is deleted.
  await sql`alter table otp_challenge drop constraint otp_challenge_purpose_check`.execute(db);
  await sql`alter table otp_challenge add constraint otp_challenge_purpose_check
    check (purpose in ('login', 'signup', 'password_reset', 'delete_account'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from otp_challenge where purpose = 'delete_account'`.execute(db);
  await sql`alter table otp_challenge drop constraint otp_challenge_purpose_check`.execute(db);
  await sql`alter table otp_challenge add constraint otp_challenge_purpose_check
    check (purpose in ('login', 'signup', 'password_reset'))`.execute(db);
  await db.schema.dropIndex('users_deleted_at_idx').ifExists().execute();
  await db.schema.alterTable('users').dropColumn('deleted_at').execute();
}
