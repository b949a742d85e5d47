import pg from 'pg';
import type { Config, Logger } from '@gemini-chat/shared';
import type { ChangeFeed, ChangeListener } from './local-cache.js';

const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5000;
const CLOSE_WAIT_MS = 1000;

/**
 * The users whose data changed, as Postgres announces them: triggers on every table GET /chatroom/:id and
 * GET /user/me are built from NOTIFY the user's id once the writing transaction commits (the migration
 * user-change-notifications), whoever wrote it: this API, another one, the worker, a sweep, a cascade.
 *
 * One connection of its own (outside the pool: a LISTEN holds its connection for good), reconnected with backoff
 * for ever. It reports itself not listening from the moment the connection fails until LISTEN has succeeded
 * again, which makes the caches on it read through meanwhile and start over afterwards.
 */
export function createPostgresChanges(config: Config['database'], log: Logger): ChangeFeed & { start(): void; close(): Promise<void> } {
  const listeners: ChangeListener[] = [];
  let client: pg.Client | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  const setLive = (isLive: boolean) => listeners.forEach((listener) => listener.live(isLive));

  async function listenOnce(): Promise<void> {
    const connection = new pg.Client({
      connectionString: config.listenUrl,
      connectionTimeoutMillis: config.connectTimeoutMs,
      keepAlive: true,
      ...(config.schema ? { options: `-c search_path=${config.schema}` } : {}),
    });
    client = connection;
    const ended = new Promise<void>((resolve) => connection.once('end', resolve));
    // Without a listener, a dropped connection would be an uncaught exception; it ends the connection, and the
    // loop below reconnects.
    connection.on('error', (err) => log.warn({ err: { message: err.message } }, 'postgres changes: connection lost; caches read through until it is back'));
    let channel = '';
    connection.on('notification', (note) => {
      if (note.channel === channel && note.payload) listeners.forEach((listener) => listener.change(note.payload!));
    });
    try {
      await connection.connect();
      // The channel carries the schema (the migration's user_changes() names it for the triggers too).
      const { rows } = await connection.query<{ channel: string }>('select user_changes(current_schema()) as channel');
      channel = rows[0]!.channel;
      await connection.query(`listen ${connection.escapeIdentifier(channel)}`);
      if (closed) return;
      setLive(true);
      await ended;
    } catch (err) {
      if (!closed) log.warn({ err: { message: (err as Error).message } }, 'postgres changes: LISTEN failed; retrying');
      connection.end().catch(() => {});
    } finally {
      client = undefined;
      setLive(false);
    }
  }

  async function run(): Promise<void> {
    for (let attempt = 0; !closed; attempt++) {
      const started = Date.now();
      await listenOnce();
      if (Date.now() - started > RETRY_MAX_MS) attempt = 0; // it was up a while: retry promptly
      if (closed) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt)).unref();
      });
    }
  }

  return {
    listen(listener) {
      listeners.push(listener);
    },

    start() {
      void run();
    },

    /** Stops listening; resolves within a second whatever the state of the connection. */
    async close() {
      closed = true;
      wake?.();
      const open = client;
      if (!open) return;
      await Promise.race([open.end().catch(() => {}), new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
    },
  };
}
