import { randomBytes } from 'node:crypto';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exclusively, testDatabaseUrl } from '@gemini-chat/testkit';
import { createDb, createStore, loadConfig, migrateToLatest } from '../../src/index.js';
import type { MessageStatus } from '../../src/db/database.js';
import { migrations } from '../../src/db/migrations/index.js';

// The tree migration on data written by the code before it: one schema migrated only up to the migration before,
// filled the way that code's repositories filled it, then migrated to the latest.
const BEFORE_TREE = '2026-11-27T1000-quota-ledger';

const schema = `test_tree_${randomBytes(4).toString('hex')}`;
const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: testDatabaseUrl(), DATABASE_SCHEMA: schema, LOG_LEVEL: 'silent' });
const admin = createDb({ ...config.database, schema: undefined });
const db = createDb(config.database);

let userId: string;
const ids: Record<string, string> = {};
const rooms: Record<string, string> = {};

/** What the earlier message repository stored for a prompt or a reply (no parent, no current message). */
async function insert(name: string, room: string, role: 'user' | 'assistant', status: MessageStatus, replyTo?: string): Promise<void> {
  const row = await db
    .insertInto('message')
    .values({
      chatroom_id: rooms[room]!,
      user_id: userId,
      role,
      status,
      content: name,
      reply_to_id: replyTo ? ids[replyTo] : null,
      ...(role === 'user' ? { completed_at: new Date() } : { quota_day: '2026-11-30' }),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  ids[name] = row.id;
}

beforeAll(async () => {
  await exclusively(admin, async () => {
    await sql`create schema ${sql.id(schema)}`.execute(admin);
    const result = await new Migrator({ db, provider: { getMigrations: async () => migrations }, migrationTableSchema: schema }).migrateTo(BEFORE_TREE);
    if (result.error) throw result.error;
  });
  userId = (await db.insertInto('users').values({ mobile_number: '+14155550123' }).returning('id').executeTakeFirstOrThrow()).id;
  for (const name of ['main', 'empty', 'failed']) {
    rooms[name] = (await db.insertInto('chatroom').values({ user_id: userId, title: name }).returning('id').executeTakeFirstOrThrow()).id;
  }
  // main: three turns; the second reply was regenerated twice (the last attempt failed), the third once (cancelled).
  await insert('P1', 'main', 'user', 'completed');
  await insert('R1', 'main', 'assistant', 'completed', 'P1');
  await insert('P2', 'main', 'user', 'completed');
  await insert('R2a', 'main', 'assistant', 'completed', 'P2');
  await insert('R2b', 'main', 'assistant', 'completed', 'P2');
  await insert('R2c', 'main', 'assistant', 'failed', 'P2');
  await insert('P3', 'main', 'user', 'completed');
  await insert('R3a', 'main', 'assistant', 'completed', 'P3');
  await insert('R3b', 'main', 'assistant', 'cancelled', 'P3');
  // failed: a first reply that failed, then another turn.
  await insert('F1', 'failed', 'user', 'completed');
  await insert('FR1', 'failed', 'assistant', 'failed', 'F1');
  await insert('F2', 'failed', 'user', 'completed');
  await insert('FR2', 'failed', 'assistant', 'queued', 'F2');

  await exclusively(admin, () => migrateToLatest(db, schema));
});

afterAll(async () => {
  await db.destroy();
  await exclusively(admin, () => sql`drop schema ${sql.id(schema)} cascade`.execute(admin));
  await admin.destroy();
});

const parentOf = async (name: string) =>
  (await db.selectFrom('message').select('parent_id').where('id', '=', ids[name]!).executeTakeFirstOrThrow()).parent_id;
const nameOf = (id: string | null) => (id === null ? null : Object.keys(ids).find((name) => ids[name] === id));
const currentOf = async (room: string) =>
  (await db.selectFrom('chatroom').select('current_message_id').where('id', '=', rooms[room]!).executeTakeFirstOrThrow()).current_message_id;

describe('migration 2026-12-01T0900-message-tree on existing data', () => {
  it('chains each chatroom into one branch: replies under their prompt, a prompt under the newest completed reply before it', async () => {
    const parents = Object.fromEntries(await Promise.all(Object.keys(ids).map(async (name) => [name, nameOf(await parentOf(name))])));
    expect(parents).toEqual({
      P1: null,
      R1: 'P1',
      P2: 'R1',
      R2a: 'P2',
      R2b: 'P2',
      R2c: 'P2',
      P3: 'R2b', // what the model saw: the newest completed reply, not the failed attempt after it
      R3a: 'P3',
      R3b: 'P3',
      F1: null,
      FR1: 'F1',
      F2: 'FR1', // no completed reply: the newest one
      FR2: 'F2',
    });
  });

  it('makes regenerated replies siblings in creation order', async () => {
    const treeDb = createDb(config.database);
    const store = createStore(treeDb);
    try {
      const [r2a, r2b, r2c, r3b, p1] = await store.messages.findWithSiblings(rooms.main!, [ids.R2a!, ids.R2b!, ids.R2c!, ids.R3b!, ids.P1!]);
      expect(r2a).toMatchObject({ sibling_index: 1, sibling_count: 3, previous_sibling_id: null, next_sibling_id: ids.R2b });
      expect(r2b).toMatchObject({ sibling_index: 2, sibling_count: 3, previous_sibling_id: ids.R2a, next_sibling_id: ids.R2c });
      expect(r2c).toMatchObject({ sibling_index: 3, sibling_count: 3, next_sibling_id: null });
      expect(r3b).toMatchObject({ sibling_index: 2, sibling_count: 2 });
      expect(p1).toMatchObject({ sibling_index: 1, sibling_count: 1 });
      // The branch the user saw last, leaf first, is one path to the root.
      const branch = await store.messages.branch(rooms.main!, { leafId: (await currentOf('main'))! }, 100);
      expect(branch.map((m) => nameOf(m.id))).toEqual(['R3b', 'P3', 'R2b', 'P2', 'R1', 'P1']);
    } finally {
      await treeDb.destroy();
    }
  });

  it('points each chatroom at its newest message (null when empty)', async () => {
    expect(nameOf(await currentOf('main'))).toBe('R3b');
    expect(nameOf(await currentOf('failed'))).toBe('FR2');
    expect(await currentOf('empty')).toBeNull();
  });
});
