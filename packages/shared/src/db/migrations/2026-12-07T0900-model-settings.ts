import { sql, type Kysely } from 'kysely';

// Frozen history: never edit after it has shipped; add a new migration instead.
//
// Model choice, thinking and grounding: a chatroom names its model (null: the tier's default) and its generation
// settings; a reply records the model and settings it was generated with, its thought summaries (apart from its
// text), its citations and the thinking tokens it used. Existing rows keep working: a chatroom without settings
// uses the defaults, an existing reply has none recorded.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('chatroom')
    .addColumn('model', 'text')
    .addColumn('settings', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await db.schema
    .alterTable('message')
    .addColumn('settings', 'jsonb')
    .addColumn('thoughts', 'text')
    .addColumn('citations', 'jsonb')
    .addColumn('thinking_tokens', 'integer')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('message').dropColumn('thinking_tokens').dropColumn('citations').dropColumn('thoughts').dropColumn('settings').execute();
  await db.schema.alterTable('chatroom').dropColumn('settings').dropColumn('model').execute();
}
