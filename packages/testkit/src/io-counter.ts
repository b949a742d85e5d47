import { Redis } from 'ioredis';
import pg from 'pg';

/** What a stretch of code cost in Postgres transactions and Redis round trips, as counted by `countIo`. */
export interface IoCount {
  /** `BEGIN…COMMIT` (or `ROLLBACK`) blocks plus statements run outside one: what `pg_stat_database` counts. */
  pgTransactions: number;
  /** Statements sent, transaction control included. */
  pgStatements: number;
  /** Writes to a Redis connection answered as one: a single command, or a whole pipeline / `MULTI…EXEC`. */
  redisRoundTrips: number;
  /** Commands sent, by name (a pipeline's commands counted one by one). */
  redisCommands: Record<string, number>;
}

export interface IoCounter {
  /** Counts from now on (and forgets what was counted before). */
  reset(): void;
  read(): IoCount;
  /** Restores the original methods. */
  stop(): void;
}

type PgQuery = (this: pg.Client, ...args: unknown[]) => unknown;
type SendCommand = (this: Redis, command: { name: string }, stream?: { isPipeline?: boolean }) => unknown;

const inTransaction = new WeakMap<object, boolean>();

function sqlOf(args: unknown[]): string {
  const first = args[0];
  if (typeof first === 'string') return first;
  if (first && typeof first === 'object' && 'text' in first) return String((first as { text: unknown }).text);
  return '';
}

/**
 * Counts, process-wide, the Postgres transactions and Redis round trips every client of this process makes: pg's
 * `Client.prototype.query` and ioredis's `sendCommand` are wrapped. The counts are exact and
 * deterministic for code that runs alone between `reset()` and `read()`, which is what a cost budget test needs.
 */
export function countIo(): IoCounter {
  const count: IoCount = { pgTransactions: 0, pgStatements: 0, redisRoundTrips: 0, redisCommands: {} };
  const originalQuery = pg.Client.prototype.query as unknown as PgQuery;
  const originalSend = Redis.prototype.sendCommand as unknown as SendCommand;
  // ioredis writes a pipeline (auto-pipelined commands, MULTI…EXEC) through one stream object made for that
  // write: the first command seen on it is the round trip.
  const pipelineWrites = new WeakSet<object>();

  (pg.Client.prototype as unknown as { query: PgQuery }).query = function (this: pg.Client, ...args: unknown[]) {
    const text = sqlOf(args).trim().toLowerCase();
    if (text) {
      count.pgStatements++;
      if (text.startsWith('begin') || text.startsWith('start transaction')) {
        inTransaction.set(this, true);
        count.pgTransactions++;
      } else if (text.startsWith('commit') || text.startsWith('rollback')) {
        inTransaction.set(this, false);
      } else if (!inTransaction.get(this)) {
        count.pgTransactions++;
      }
    }
    return originalQuery.apply(this, args);
  };
  (Redis.prototype as unknown as { sendCommand: SendCommand }).sendCommand = function (this: Redis, command, stream) {
    count.redisCommands[command.name] = (count.redisCommands[command.name] ?? 0) + 1;
    if (!stream?.isPipeline) count.redisRoundTrips++;
    else if (!pipelineWrites.has(stream)) {
      pipelineWrites.add(stream);
      count.redisRoundTrips++;
    }
    return originalSend.call(this, command, stream);
  };

  return {
    reset() {
      count.pgTransactions = 0;
      count.pgStatements = 0;
      count.redisRoundTrips = 0;
      count.redisCommands = {};
    },
    read: () => ({ ...count, redisCommands: { ...count.redisCommands } }),
    stop() {
      (pg.Client.prototype as unknown as { query: PgQuery }).query = originalQuery;
      (Redis.prototype as unknown as { sendCommand: SendCommand }).sendCommand = originalSend;
    },
  };
}
