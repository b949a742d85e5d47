// `pnpm db:migrate`: creates the database if it does not exist yet, then applies every pending migration.
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../config/config.js';
import { createDb } from './create-db.js';
import { migrateToLatest } from './migrate.js';

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!name) return;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch {
    return; // no rights on the maintenance database: assume the target exists and let the migration say otherwise
  }
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`create database "${name.replace(/"/g, '""')}"`);
      console.log(`created database ${name}`);
    }
  } finally {
    await client.end();
  }
}

const config = loadConfig();
await ensureDatabase(config.database.url);
const { schema } = config.database;
if (schema) {
  const admin = createDb({ ...config.database, schema: undefined });
  await sql`create schema if not exists ${sql.id(schema)}`.execute(admin);
  await admin.destroy();
}
const db = createDb(config.database);
try {
  const { results } = await migrateToLatest(db, schema);
  for (const r of results ?? []) console.log(`migration ${r.migrationName}: ${r.status}`);
  if (!results?.length) console.log('database is up to date');
} finally {
  await db.destroy();
}
