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

// How a row names its user (row `c`), and the tables whose rows name it that way.
const USER_OF: Record<string, { user: string; tables: string[] }> = {
  user_id: { user: 'c.user_id', tables: ['user_token_usage', 'chatroom', 'message', 'file'] },
  id: { user: 'c.id', tables: ['users'] },
  // A file is its user's. When the file row itself goes in the same statement (a cascade), the file's own trigger
  // announces the user.
  file: { user: '(select f.user_id from file f where f.id = c.file_id)', tables: ['message_attachment'] },
};

const fn = (kind: string, update: boolean) => sql.id(`notify_user_changes_by_${kind}${update ? '_on_update' : ''}`);
const trigger = (table: string, op: string) => sql.id(`${table}_${op}_notify_user_changes`);

export async function up(db: Kysely<any>): Promise<void> {
  // md5 keeps any schema name within Postgres's 63-byte channel limit (an over-long channel would fail the write).
  await sql`
    create function user_changes(schema_name text) returns text language sql immutable
    as $$ select 'user_changes_' || md5(schema_name) $$`.execute(db);
  for (const [kind, { user, tables }] of Object.entries(USER_OF)) {
    // `changed` holds the rows after the statement (before it, for a delete); an update also sees
    // `changed_before`, so a row moved between users announces both. Static SQL (its plan is kept per session:
    // measured, a third cheaper per write than the same statement built and run with EXECUTE). The search path
    // is the migration's (the tables' schema), whatever the writing session's is.
    for (const update of [false, true]) {
      const rows = update
        ? `select ${user} as u from changed c union select ${user} from changed_before c`
        : `select ${user} as u from changed c`;
      await sql`
        create function ${fn(kind, update)}() returns trigger language plpgsql set search_path from current as $$
        begin
          perform pg_notify(user_changes(TG_TABLE_SCHEMA), u::text) from (select distinct u from (${sql.raw(rows)}) r where u is not null) d;
          return null;
        end $$`.execute(db);
    }
    for (const table of tables) {
      await sql`create trigger ${trigger(table, 'insert')} after insert on ${sql.table(table)} referencing new table as changed
        for each statement execute function ${fn(kind, false)}()`.execute(db);
      await sql`create trigger ${trigger(table, 'update')} after update on ${sql.table(table)}
        referencing old table as changed_before new table as changed
        for each statement execute function ${fn(kind, true)}()`.execute(db);
      await sql`create trigger ${trigger(table, 'delete')} after delete on ${sql.table(table)} referencing old table as changed
        for each statement execute function ${fn(kind, false)}()`.execute(db);
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [kind, { tables }] of Object.entries(USER_OF)) {
    for (const table of tables) {
      for (const op of ['insert', 'update', 'delete']) await sql`drop trigger if exists ${trigger(table, op)} on ${sql.table(table)}`.execute(db);
    }
    for (const update of [false, true]) await sql`drop function if exists ${fn(kind, update)}()`.execute(db);
  }
  await sql`drop function if exists user_changes(text)`.execute(db);
}
