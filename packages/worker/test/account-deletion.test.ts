import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '@gemini-chat/fakes';
import { Redis } from 'ioredis';
import { createJobProducer, createQuota, createStorage, createStore, jobIdFor, redisKeys, type ObjectStorage } from '@gemini-chat/shared';
import {
  fileUpload,
  filesUnder,
  post,
  PRO_PRICE,
  signIn,
  startStack,
  subscribeAndPay,
  waitFor,
  WEBHOOK_SECRET,
  type BillingTestApp,
  type SignedIn,
  type Stack,
} from '@gemini-chat/testkit';
import { createDeleteAccountHandler } from '../src/handlers/delete-account.handler.js';
import { createSweeper } from '../src/sweeper.js';
import { startWorker } from '../src/worker.js';

const STRIPE_KEY = 'sk_test_account_deletion';
let s: Stack;
let fake: FakeStripe;
beforeAll(async () => {
  fake = await startFakeStripe({ webhookSecret: WEBHOOK_SECRET });
  s = await startStack(
    { STRIPE_SECRET_KEY: STRIPE_KEY, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_BASE_URL: fake.url, STRIPE_PRO_PRICE_ID: PRO_PRICE },
    { startWorker, worker: false },
  );
  const address = await s.app.listen({ port: 0, host: '127.0.0.1' });
  fake.setWebhookEndpoint({ url: `${address}/webhook/stripe` });
});
afterAll(async () => {
  await fake.webhooksIdle();
  await s.close();
  await fake.close();
});

async function upload(user: SignedIn, text: string): Promise<string> {
  const body = fileUpload(text, `${text}.txt`);
  const res = await s.app.inject({ method: 'POST', url: '/files', headers: { ...user.auth, ...body.headers }, payload: body.payload });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

async function deleteAccount(user: SignedIn): Promise<void> {
  const otp = (await post(s.app, '/auth/send-otp', { mobileNumber: user.mobileNumber, purpose: 'delete_account' })).json().otp;
  const res = await s.app.inject({ method: 'DELETE', url: '/user/me', headers: user.auth, payload: { otp } });
  expect(res.statusCode).toBe(204);
}

const objectsOf = (userId: string) => filesUnder(s.filesDir).filter((path) => path.includes(userId));
const userRow = (userId: string) => s.db.selectFrom('users').select(['id', 'deleted_at']).where('id', '=', userId).executeTakeFirst();

/** Rows of every table of the schema whose text mentions any of `needles`, by table (empty: none anywhere). */
async function rowsMentioning(needles: string[]): Promise<Record<string, number>> {
  const schema = s.config.database.schema!;
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = ${schema} and table_type = 'BASE TABLE'`.execute(s.db);
  expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['users', 'session', 'chatroom', 'message', 'file', 'subscription', 'otp_send']));
  const found: Record<string, number> = {};
  for (const { table_name } of tables.rows) {
    const matches = needles.map((needle) => sql`strpos(t::text, ${needle}) > 0`);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from ${sql.table(`${schema}.${table_name}`)} t where ${sql.join(matches, sql` or `)}`.execute(s.db);
    if (rows[0]!.n > 0) found[table_name] = rows[0]!.n;
  }
  return found;
}

describe('the delete-account job', () => {
  it('resumes after a worker died halfway through the objects, and finishes', async () => {
    const user = await signIn(s.app);
    for (const name of ['one', 'two', 'three']) await upload(user, name);
    expect(objectsOf(user.userId)).toHaveLength(3);
    await deleteAccount(user); // enqueued; no worker runs yet

    // A run that dies after removing one object (as a killed process would, with the rest still to go).
    const real = createStorage(s.config.files.storage);
    let deletes = 0;
    const dying: ObjectStorage = {
      ...real,
      async delete(key) {
        if (deletes++ > 0) throw new Error('worker killed');
        await real.delete(key);
      },
    };
    const handle = createDeleteAccountHandler({ store: createStore(s.db), storage: dying, log: pino({ level: 'silent' }) });
    const ctx = { attemptsMade: 0, maxAttempts: 1, signal: new AbortController().signal };
    await expect(handle({ userId: user.userId }, ctx)).rejects.toThrow('worker killed');
    await waitFor(async () => objectsOf(user.userId).length === 2);
    expect(await userRow(user.userId)).toMatchObject({ id: user.userId, deleted_at: expect.any(Date) });

    // The queued job, on a real worker, finds what is left and finishes.
    await s.startWorker();
    await waitFor(async () => (await userRow(user.userId)) === undefined);
    expect(objectsOf(user.userId)).toEqual([]);
    // And running it again does nothing and does not fail.
    await handle({ userId: user.userId }, ctx);
  });

  it('never touches an account that is not marked deleted', async () => {
    const user = await signIn(s.app);
    const id = await upload(user, 'alive');
    const handle = createDeleteAccountHandler({ store: createStore(s.db), storage: createStorage(s.config.files.storage), log: pino({ level: 'silent' }) });
    await handle({ userId: user.userId }, { attemptsMade: 0, maxAttempts: 1, signal: new AbortController().signal });
    expect(await userRow(user.userId)).toBeDefined();
    expect(objectsOf(user.userId)).toEqual([`files/${user.userId}/${id}`]);
  });

  it('is enqueued again by the sweep when its job went missing (Redis failed after the commit)', async () => {
    const user = await signIn(s.app);
    await upload(user, 'orphaned');
    // What the API commits, with no job behind it.
    await s.db.updateTable('users').set({ deleted_at: new Date(Date.now() - 3600_000) }).where('id', '=', user.userId).execute();
    const log = pino({ level: 'silent' });
    const producer = createJobProducer(s.config.redis, s.config.worker.maxAttempts, log);
    const redis = new Redis(s.config.redis.url);
    try {
      const store = createStore(s.db);
      const quota = createQuota(redis, redisKeys(s.config.redis.keyPrefix), s.config.quota, store.messages);
      expect(await producer.queue.getJobState(jobIdFor['delete-account']({ userId: user.userId }))).toBe('unknown');
      await createSweeper({ store, producer, quota, config: s.config.worker, log }).sweep();
      if (!s.worker) await s.startWorker();
      await waitFor(async () => (await userRow(user.userId)) === undefined);
      expect(objectsOf(user.userId)).toEqual([]);
    } finally {
      await producer.close();
      redis.disconnect();
    }
  });

  it('leaves no row and no stored object of the user anywhere, the subscription ended, and others untouched', async () => {
    if (!s.worker) await s.startWorker();
    const user = await signIn(s.app, { name: 'To Be Deleted', email: 'gone@example.com', password: 'correct horse battery' });
    const other = await signIn(s.app);
    const t = { ...s, fake } as unknown as BillingTestApp;
    const { subscriptionId } = await subscribeAndPay(t, user);
    const fileId = await upload(user, 'private');
    const othersFile = await upload(other, 'theirs');
    for (const who of [user, other]) {
      const room = (await s.app.inject({ method: 'POST', url: '/chatroom', headers: who.auth, payload: { title: 'Room' } })).json();
      const sent = await s.app.inject({
        method: 'POST',
        url: `/chatroom/${room.id}/message`,
        headers: { ...who.auth, 'idempotency-key': `key-${who.userId}` },
        payload: { content: 'hello', ...(who === user ? { attachments: [fileId] } : {}) },
      });
      expect(sent.statusCode).toBe(202);
      const replyId = sent.json().reply.id;
      await waitFor(async () => {
        const reply = await s.db.selectFrom('message').select('status').where('id', '=', replyId).executeTakeFirst();
        return reply?.status === 'completed';
      });
    }
    await fake.webhooksIdle();
    expect(Object.keys(await rowsMentioning([user.userId]))).toEqual(
      expect.arrayContaining(['users', 'session', 'chatroom', 'message', 'file', 'subscription', 'idempotency_key', 'checkout_session']),
    );

    await deleteAccount(user);
    await waitFor(async () => (await userRow(user.userId)) === undefined);
    await fake.webhooksIdle();

    const inStripe = await fetch(`${fake.url}/v1/subscriptions/${subscriptionId}`, { headers: { authorization: `Bearer ${STRIPE_KEY}` } });
    expect(((await inStripe.json()) as { status: string }).status).toBe('canceled');
    expect(await rowsMentioning([user.userId, user.mobileNumber, 'gone@example.com', 'To Be Deleted'])).toEqual({});
    expect(objectsOf(user.userId)).toEqual([]);
    // Everything of the other user is still there.
    expect(objectsOf(other.userId)).toEqual([`files/${other.userId}/${othersFile}`]);
    expect(Object.keys(await rowsMentioning([other.userId]))).toEqual(expect.arrayContaining(['users', 'session', 'chatroom', 'message', 'file']));
    expect((await s.app.inject({ url: '/user/me', headers: other.auth })).statusCode).toBe(200);
  });
});
