// Creates the test database once per run; each test file then works in its own schema inside it.
import pg from 'pg';
import { testDatabaseUrl } from './env.js';

export default async function setup(): Promise<void> {
  const target = new URL(testDatabaseUrl());
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(target);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database "${name.replace(/"/g, '""')}"`);
  } catch (err) {
    // Two runs racing to create it is fine; anything else is not.
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await client.end();
  }
}
