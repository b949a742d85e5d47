import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sql, type Kysely } from 'kysely';
import { createDb, loadConfig, migrateToLatest, type Config, type Database } from '@gemini-chat/shared';
import { testDatabaseUrl, testRedisUrl } from './env.js';

export interface Isolated {
  config: Config;
  /** The same settings as environment variables, for processes started by the test. */
  env: Record<string, string>;
  /** A direct handle on the test schema, for arranging state a client cannot reach (e.g. expiring a code). */
  db: Kysely<Database>;
  /** The filesystem storage directory of its own (FILES_DIR), removed by cleanup(). */
  filesDir: string;
  cleanup(): Promise<void>;
}

/**
 * Test files create, migrate and drop schemas in parallel. Kysely's migrator introspects every schema of the
 * database, and a schema dropped by another file in the middle of that introspection fails it ("schema ... does
 * not exist"), so these DDL steps take turns under one advisory lock (held on a connection of their own).
 */
export async function exclusively(admin: Kysely<Database>, work: () => Promise<unknown>): Promise<void> {
  await admin.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(hashtext('gemini-chat:test-ddl'))`.execute(connection);
    try {
      await work();
    } finally {
      await sql`select pg_advisory_unlock(hashtext('gemini-chat:test-ddl'))`.execute(connection);
    }
  });
}

/**
 * A migrated Postgres schema and a Redis key prefix of the caller's own, plus a config pointing at both.
 * `env` overrides any environment setting (e.g. { QUOTA_BASIC_DAILY: '2' }).
 */
export async function isolate(env: Record<string, string> = {}): Promise<Isolated> {
  const id = randomBytes(5).toString('hex');
  const schema = `test_${id}`;
  const filesDir = mkdtempSync(join(tmpdir(), `gemini-chat-files-${id}-`));
  const processEnv: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_SCHEMA: schema,
    LOG_LEVEL: 'silent',
    DATABASE_URL: testDatabaseUrl(),
    DATABASE_POOL_MAX: '5',
    REDIS_URL: testRedisUrl(),
    REDIS_KEY_PREFIX: `test:${id}:`,
    AUTH_RATE_LIMIT_PER_IP: '100000',
    AUTH_RATE_LIMIT_PER_NUMBER: '100000',
    OTP_RESEND_COOLDOWN_SECONDS: '0',
    OTP_HOURLY_SEND_LIMIT: '1000',
    FILES_DIR: filesDir,
    ...env,
  };
  const config = loadConfig(processEnv);

  const admin = createDb({ ...config.database, schema: undefined });
  const db = createDb(config.database);
  await exclusively(admin, async () => {
    await sql`create schema ${sql.id(schema)}`.execute(admin);
    await migrateToLatest(db, schema);
  });

  return {
    config,
    env: processEnv,
    db,
    filesDir,
    async cleanup() {
      rmSync(filesDir, { recursive: true, force: true });
      await db.destroy();
      await exclusively(admin, () => sql`drop schema ${sql.id(schema)} cascade`.execute(admin));
      await admin.destroy();
      const redis = new Redis(config.redis.url);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.redis.keyPrefix}*`, 'COUNT', 500);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      await redis.quit();
    },
  };
}
