// Postgres and Redis clients for the bench's own housekeeping (reset the bench database, read BullMQ job
// timestamps, remove the run's Redis keys). The drivers are dependencies of packages/api, not of the root, so
// they are loaded from there; the small interfaces below are all the bench uses of them.
import { createRequire } from 'node:module';

const requireFromApi = createRequire(new URL('../../packages/api/package.json', import.meta.url));

export interface BenchRedis {
  zrangebyscore(key: string, min: number | string, max: number | string): Promise<string[]>;
  hmget(key: string, ...fields: string[]): Promise<Array<string | null>>;
  scan(cursor: string, ...args: Array<string | number>): Promise<[string, string[]]>;
  unlink(...keys: string[]): Promise<number>;
  pipeline(): { hmget(key: string, ...fields: string[]): unknown; exec(): Promise<Array<[Error | null, unknown]> | null> };
  quit(): Promise<unknown>;
}

interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rowCount: number | null; rows: unknown[] }>;
  end(): Promise<void>;
}

export function connectRedis(url: string): BenchRedis {
  const { Redis } = requireFromApi('ioredis') as { Redis: new (url: string, options: object) => BenchRedis };
  return new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: false });
}

/** Deletes every key under `prefix` (the run's own namespace). */
export async function deleteKeys(redis: BenchRedis, prefix: string): Promise<number> {
  let cursor = '0';
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) removed += await redis.unlink(...keys);
  } while (cursor !== '0');
  return removed;
}

/**
 * Drops and re-creates the bench database so every run starts from the same empty schema. Refuses a database
 * whose name does not contain "bench", so a mistyped URL can never drop development or test data.
 */
export async function resetDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/bench/i.test(name)) {
    console.log(`  database ${name}: name lacks "bench", so it is not reset (migrations still run)`);
    return;
  }
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const { Client } = requireFromApi('pg') as { Client: new (options: object) => PgClient };
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const quoted = `"${name.replace(/"/g, '""')}"`;
    await client.query(`drop database if exists ${quoted} with (force)`);
    await client.query(`create database ${quoted}`);
  } finally {
    await client.end();
  }
}

/**
 * Counts the bench database's committed + rolled-back transactions (pg_stat_database): every autocommit query is
 * one, so the difference around a scenario divided by its requests is "Postgres queries per request" (API and
 * worker together). Read it PG_STATS_SETTLE_MS after the load stops, not sooner (see there).
 */
/**
 * How long after a load stops the transaction counter is complete. A busy backend publishes its counts at most once
 * a second, and one that goes idle with counts still pending publishes them only after Postgres's idle interval
 * (PGSTAT_IDLE_INTERVAL, 10 s, since Postgres 15): the API's pooled connections go idle the moment a load stops,
 * so read sooner the counter misses the scenario's last second and hands it to the next scenario (a check with 4
 * pooled connections: 64 % of 69,368 transactions arrived 10 s after the load).
 */
export const PG_STATS_SETTLE_MS = 10_500;

export async function connectPgCounter(url: string): Promise<{ transactions(): Promise<number>; close(): Promise<void> }> {
  const { Client } = requireFromApi('pg') as { Client: new (options: object) => PgClient };
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  return {
    async transactions() {
      await client.query('select pg_stat_clear_snapshot()');
      const { rows } = await client.query('select (xact_commit + xact_rollback)::text as n from pg_stat_database where datname = $1', [name]);
      return Number((rows[0] as { n: string } | undefined)?.n ?? Number.NaN);
    },
    close: () => client.end(),
  };
}
