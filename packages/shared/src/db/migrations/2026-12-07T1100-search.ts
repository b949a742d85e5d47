import { sql, type Kysely } from 'kysely';

// Frozen history: never edit after it has shipped; add a new migration instead.
//
// Full-text search over a user's chatroom titles and messages. The text is indexed with the `simple`
// configuration (lower-cased words, no stemming, no stop words), so any language matches word for word.
// The vectors are stored generated columns: Postgres keeps them in step with every write, and adding them here
// computes them for every existing row.
//
// The GIN indexes lead with user_id (btree_gin gives uuid a GIN operator class), so a search walks only the
// caller's entries rather than every user's matches filtered afterwards.
export async function up(db: Kysely<any>): Promise<void> {
  // Installed once per database, in `public` rather than the first schema of the search path: a schema dropped
  // with CASCADE would otherwise take the extension, and every other schema's index on it, along. btree_gin is a
  // trusted extension (Postgres 13+), so a database owner without superuser may install it. The default operator
  // class for uuid is found whatever the search path, so the indexes below need no schema-qualified names.
  await sql`create extension if not exists btree_gin with schema public`.execute(db);

  await db.schema
    .alterTable('message')
    // The first 100,000 characters: a tsvector holds at most 1 MB, and a longer reply must never fail its write.
    .addColumn('search_tsv', sql`tsvector`, (c) =>
      c.generatedAlwaysAs(sql`to_tsvector('simple'::regconfig, left(content, 100000))`).stored().notNull(),
    )
    .execute();
  // Title words weigh A (messages the default D): with ts_rank's weights a title match ranks well above a passing mention.
  await db.schema
    .alterTable('chatroom')
    .addColumn('search_tsv', sql`tsvector`, (c) => c.generatedAlwaysAs(sql`setweight(to_tsvector('simple'::regconfig, title), 'A')`).stored().notNull())
    .execute();

  // Only finished prompts and replies are searchable; the partial index leaves half-written replies out.
  await sql`create index message_search_idx on message using gin (user_id, search_tsv) where status = 'completed'`.execute(db);
  await sql`create index chatroom_search_idx on chatroom using gin (user_id, search_tsv)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('chatroom_search_idx').ifExists().execute();
  await db.schema.dropIndex('message_search_idx').ifExists().execute();
  await db.schema.alterTable('chatroom').dropColumn('search_tsv').execute();
  await db.schema.alterTable('message').dropColumn('search_tsv').execute();
  // The extension stays: other schemas of the same database may index with it.
}
