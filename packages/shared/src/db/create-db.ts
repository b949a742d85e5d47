import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config/config.js';
import type { Logger } from '../logger.js';
import type { Database } from './database.js';

// Postgres returns bigint (int8) as string by default; `message.seq` stays a string on purpose (cursor material).
// DATE columns stay 'YYYY-MM-DD' strings: pg would otherwise build a Date at local midnight, shifting UTC days.
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);


/** One pool per process. Fails fast (connect timeout) so a database outage becomes a 503, not a hang. */
export function createDb(config: Config['database'], logger?: Logger): Kysely<Database> {
  const options = [`-c statement_timeout=${config.statementTimeoutMs}`];
  if (config.schema) options.push(`-c search_path=${config.schema}`);
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolMax,
    connectionTimeoutMillis: config.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    options: options.join(' '),
  });
  // An idle client losing its connection (server restart, pg_terminate_backend) must not crash the process.
  // Not `{ err }`: pg-pool attaches the whole client to the error, kilobytes per terminated connection.
  pool.on('error', (err) => logger?.error({ err: { message: err.message, code: (err as { code?: string }).code } }, 'postgres pool: idle client error'));
  // pg-pool listens for errors only on idle clients; a checked-out client whose connection dies between queries
  // would emit 'error' with no listener (an uncaught exception). Its next query fails (503) and the pool drops it.
  pool.on('connect', (client) => {
    client.on('error', (err) => logger?.error({ err: { message: err.message } }, 'postgres client error'));
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
