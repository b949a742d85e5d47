import { sql, type Kysely } from 'kysely';

// Frozen history: never edit after it has shipped; add a new migration instead.
//
// The database announces which users' data changed, so that API processes can keep GET /chatroom/:id and
// GET /user/me in memory without any writer (API, worker, sweep, cascade, future code) having to remember to say
// so. After every statement that inserts, updates or deletes rows of a table those two responses are built from,
// one NOTIFY per distinct user whose rows it touched, carrying the user's id. Postgres delivers a notification only
// when its transaction commits, once per distinct (channel, payload) per transaction, so a bulk statement (an
// import, an account deletion's cascades) costs one notification per user, not per row.
//
// The channel carries the schema (several test suites share one database, one schema each): user_changes(schema)
// names it for the triggers and for the listener alike, so the two cannot drift apart.
const TABLES: Array<{ table: string; user: string }> = [
  { table: 'users', user: 'c.id' },
  { table: 'user_token_usage', user: 'c.user_id' },
  { table: 'chatroom', user: 'c.user_id' },
  { table: 'message', user: 'c.user_id' },
  { table: 'file', user: 'c.user_id' },
  // Through its file (a file is its user's). When the file row itself goes in the same statement (a cascade), the
  // file's own trigger announces the user.
  { table: 'message_attachment', user: '(select f.user_id from file f where f.id = c.file_id)' },
];

export async function up(db: Kysely<any>): Promise<void> {
  // md5 keeps any schema name within Postgres's 63-byte channel limit (an over-long channel would fail the write).
  await sql`
    create function user_changes(schema_name text) returns text language sql immutable
    as $$ select 'user_changes_' || md5(schema_name) $$`.execute(db);
  // TG_ARGV[0]: the expression naming a row's user (row `c`). `changed` holds the rows after the statement (before
  // it, for a delete); an update also sees `changed_before`, so a row moved between users announces both. The
  // search path is the migration's (the tables' schema), whatever the writing session's is.
  await sql`
    create function notify_user_changes() returns trigger language plpgsql set search_path from current as $$
    declare
      rows_of text := case when TG_OP = 'UPDATE'
        then format('select %1$s as u from changed c union select %1$s from changed_before c', TG_ARGV[0])
        else format('select %s as u from changed c', TG_ARGV[0]) end;
    begin
      execute format('select pg_notify(%L, u::text) from (select distinct u from (%s) r where u is not null) d',
                     user_changes(TG_TABLE_SCHEMA), rows_of);
      return null;
    end $$`.execute(db);
  for (const { table, user } of TABLES) {
    const name = (op: string) => sql.id(`${table}_${op}_notify_user_changes`);
    const argument = sql.lit(user);
    await sql`create trigger ${name('insert')} after insert on ${sql.table(table)} referencing new table as changed
      for each statement execute function notify_user_changes(${argument})`.execute(db);
    await sql`create trigger ${name('update')} after update on ${sql.table(table)} referencing old table as changed_before new table as changed
      for each statement execute function notify_user_changes(${argument})`.execute(db);
    await sql`create trigger ${name('delete')} after delete on ${sql.table(table)} referencing old table as changed
      for each statement execute function notify_user_changes(${argument})`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const { table } of TABLES) {
    for (const op of ['insert', 'update', 'delete']) {
      await sql`drop trigger if exists ${sql.id(`${table}_${op}_notify_user_changes`)} on ${sql.table(table)}`.execute(db);
    }
  }
  await sql`drop function if exists notify_user_changes()`.execute(db);
  await sql`drop function if exists user_changes(text)`.execute(db);
}
