import { randomBytes } from 'node:crypto';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exclusively, testDatabaseUrl } from '@gemini-chat/testkit';
import { createDb, createStore, loadConfig, migrateToLatest } from '../../src/index.js';
import { migrations } from '../../src/db/migrations/index.js';

// The model-settings migration on data written by the code before it: a chatroom and a finished exchange stored at
// the message-tree schema, then migrated to the latest and read and written by today's repositories.
const BEFORE = '2026-12-01T0900-message-tree';

const schema = `test_settings_${randomBytes(4).toString('hex')}`;
const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: testDatabaseUrl(), DATABASE_SCHEMA: schema, LOG_LEVEL: 'silent' });
const admin = createDb({ ...config.database, schema: undefined });
const db = createDb(config.database);

let userId: string;
let roomId: string;
let promptId: string;
let replyId: string;

beforeAll(async () => {
  await exclusively(admin, async () => {
    await sql`create schema ${sql.id(schema)}`.execute(admin);
    const result = await new Migrator({ db, provider: { getMigrations: async () => migrations }, migrationTableSchema: schema }).migrateTo(BEFORE);
    if (result.error) throw result.error;
  });
  // Raw SQL: the columns of the schema before, not today's row types.
  userId = (await sql<{ id: string }>`insert into users (mobile_number) values ('+14155550199') returning id`.execute(db)).rows[0]!.id;
  roomId = (await sql<{ id: string }>`insert into chatroom (user_id, title) values (${userId}, 'old') returning id`.execute(db)).rows[0]!.id;
  promptId = (
    await sql<{ id: string }>`insert into message (chatroom_id, user_id, role, status, content, completed_at)
      values (${roomId}, ${userId}, 'user', 'completed', 'Q', now()) returning id`.execute(db)
  ).rows[0]!.id;
  replyId = (
    await sql<{ id: string }>`insert into message (chatroom_id, user_id, role, status, content, reply_to_id, parent_id, input_tokens, output_tokens, model, completed_at)
      values (${roomId}, ${userId}, 'assistant', 'completed', 'A', ${promptId}, ${promptId}, 3, 4, 'gemini-flash-latest', now()) returning id`.execute(db)
  ).rows[0]!.id;
  await exclusively(admin, () => migrateToLatest(db, schema));
});

afterAll(async () => {
  await db.destroy();
  await exclusively(admin, () => sql`drop schema ${sql.id(schema)} cascade`.execute(admin));
  await admin.destroy();
});

describe('migration 2026-12-07T0900-model-settings', () => {
  it('gives existing chatrooms the default model and settings and existing replies nothing recorded', async () => {
    const store = createStore(db);
    const room = await store.chatrooms.findById(roomId);
    expect(room).toMatchObject({ model: null, settings: {} });
    const reply = await store.messages.findById(replyId);
    expect(reply).toMatchObject({ content: 'A', model: 'gemini-flash-latest', settings: null, thoughts: null, citations: null, thinking_tokens: null });
  });

  it('lets today\'s repositories write the new columns on old rows', async () => {
    const store = createStore(db);
    const updated = await store.chatrooms.updateOwned(userId, roomId, { model: 'gemini-3.8-flash', settings: { thinking: 'low', googleSearch: true } });
    expect(updated).toMatchObject({ model: 'gemini-3.8-flash', settings: { thinking: 'low', googleSearch: true } });
    const { reply } = await store.messages.insertExchange({
      chatroomId: roomId,
      userId,
      content: 'Q2',
      parentId: replyId,
      quotaDay: null,
      model: 'gemini-3.8-flash',
      settings: { thinking: 'low' },
    });
    expect(reply).toMatchObject({ model: 'gemini-3.8-flash', settings: { thinking: 'low' } });
  });
});
