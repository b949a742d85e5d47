import { sql, type Kysely } from 'kysely';

// Frozen history: never edit after it has shipped; add a new migration instead.
//
// API keys for server-side clients. Only a hash of each key is stored (the key itself is shown once, at
// creation); `prefix` is its first few characters, kept so a user can tell keys apart. A revoked key's row is
// deleted. A user's keys go with the user.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('api_key')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    // Hex SHA-256 of the whole key: the authentication lookup.
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    // Null: never expires.
    .addColumn('expires_at', 'timestamptz')
    .execute();
  // GET /user/api-keys and the per-user count of live keys.
  await db.schema.createIndex('api_key_user_created_idx').on('api_key').columns(['user_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('api_key').ifExists().execute();
}
