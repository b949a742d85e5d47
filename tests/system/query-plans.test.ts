// No query's cost grows with other users' data. A database seeded with 1,000 users (200,000 messages and everything
// else users accumulate) is ANALYZEd; then a scripted session drives the real API and the worker's jobs while every
// SQL statement is recorded with the repository function that issued it. Each statement is EXPLAINed with its own
// parameters: no sequential scan of a table that grows with use, no scan estimated to read far more rows than one
// user owns, every foreign key backed by an index (cascades are not in any statement's plan), and every repository
// function exercised.
import { randomUUID } from 'node:crypto';
import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeStripe, type FakeStripe } from '@gemini-chat/fakes';
import { createStore } from '@gemini-chat/shared';
import {
  fileUpload,
  post,
  PRO_PRICE,
  seedLongChatroom,
  seedVolume,
  signIn,
  startStack,
  subscribeAndPay,
  waitFor,
  WEBHOOK_SECRET,
  type BillingTestApp,
  type SignedIn,
  type Stack,
} from '@gemini-chat/testkit';
import { startWorker } from '@gemini-chat/worker/worker';
import type * as StoreModule from '../../packages/shared/src/repositories/store.js';
import { captured, installCapture, repositoryFunctions, uninstallCapture, untracked, type CapturedStatement } from './support/query-capture.js';

vi.mock('../../packages/shared/src/repositories/store.js', async (importOriginal) => {
  const original = await importOriginal<typeof StoreModule>();
  const { instrumentStore } = await import('./support/query-capture.js');
  return { ...original, createStore: (db: Parameters<typeof original.createStore>[0]) => instrumentStore(original.createStore(db)) };
});

// Tables whose rows grow with users and their use. A sequential scan of any of them is a failure.
const GROWING = new Set([
  'users', 'otp_challenge', 'otp_send', 'session', 'refresh_token', 'chatroom', 'message', 'idempotency_key',
  'subscription', 'checkout_session', 'checkout_attempt', 'stripe_event', 'file', 'message_attachment', 'api_key',
  'share', 'user_token_usage',
]);
// One user's share of the seeded data is 200 messages, 10 chatrooms, a few of everything else; a scan estimated to
// return more than this reads other users' rows (or a whole chatroom's history where a page was asked for).
const ROW_LIMIT = 1000;

// Repository functions no request or job of the session reaches, and why.
const NOT_ISSUED: Record<string, string> = {
  'search.searchQuery': 'builds the statement search.search issues; no statement of its own',
};

const STRIPE_KEY = 'sk_test_query_plans';
let s: Stack;
let fake: FakeStripe;
let seedSeconds = 0;

beforeAll(async () => {
  fake = await startFakeStripe({ webhookSecret: WEBHOOK_SECRET });
  s = await startStack(
    {
      STRIPE_SECRET_KEY: STRIPE_KEY,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE_URL: fake.url,
      STRIPE_PRO_PRICE_ID: PRO_PRICE,
      SWEEP_INTERVAL_MS: '200',
      SWEEP_PENDING_AFTER_SECONDS: '1',
      FILES_SWEEP_INTERVAL_SECONDS: '1',
      BILLING_SWEEP_INTERVAL_SECONDS: '1',
      QUOTA_BASIC_DAILY: '100',
      // Attachments go through the Gemini Files API (the copy is recorded), not inline.
      GEMINI_INLINE_MAX_BYTES: '8',
      DATABASE_POOL_MAX: '10',
    },
    { startWorker, worker: false },
  );
  const address = await s.app.listen({ port: 0, host: '127.0.0.1' });
  fake.setWebhookEndpoint({ url: `${address}/webhook/stripe` });
  const started = Date.now();
  // On one connection without the app's statement timeout: the bulk inserts take seconds, not milliseconds.
  await s.db.connection().execute(async (conn) => {
    await sql`set statement_timeout = 0`.execute(conn);
    await seedVolume((statement) => sql.raw(statement).execute(conn));
    await sql`reset statement_timeout`.execute(conn);
  });
  seedSeconds = (Date.now() - started) / 1000;
}, 120_000);

afterAll(async () => {
  uninstallCapture();
  await fake?.webhooksIdle();
  await s?.close();
  await fake?.close();
});

async function inject(user: SignedIn | undefined, method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) {
  const res = await s.app.inject({ method: method as 'GET', url, headers: { ...(user?.auth ?? {}), ...headers }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  if (res.statusCode >= 400) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res;
}

/** A realistic session of one user, then of a second one who deletes their account. */
async function session(): Promise<void> {
  await s.startWorker(); // its sweepers run while the session does
  const user = await signIn(s.app, { name: 'Plan', password: 'correct horse battery staple' });
  const login = await post(s.app, '/auth/login', { mobileNumber: user.mobileNumber, password: 'correct horse battery staple' });
  expect(login.statusCode).toBe(200);
  const refreshed = await post(s.app, '/auth/refresh', { refreshToken: login.json().refreshToken });
  expect(refreshed.statusCode).toBe(200);
  await post(s.app, '/auth/logout', { refreshToken: refreshed.json().refreshToken });
  const otpLogin = (await post(s.app, '/auth/send-otp', { mobileNumber: user.mobileNumber, purpose: 'login' })).json();
  const wrong = otpLogin.otp === '000000' ? '111111' : '000000';
  expect((await post(s.app, '/auth/verify-otp', { mobileNumber: user.mobileNumber, otp: wrong })).statusCode).toBeGreaterThanOrEqual(400);
  await post(s.app, '/auth/verify-otp', { mobileNumber: user.mobileNumber, otp: otpLogin.otp });
  await inject(user, 'POST', '/auth/change-password', { currentPassword: 'correct horse battery staple', newPassword: 'another long passphrase' });
  const reset = (await post(s.app, '/auth/forgot-password', { mobileNumber: user.mobileNumber })).json();
  await post(s.app, '/auth/reset-password', { mobileNumber: user.mobileNumber, otp: reset.otp ?? reset.otpChallenge?.otp, newPassword: 'third long passphrase' });
  const again = await post(s.app, '/auth/login', { mobileNumber: user.mobileNumber, password: 'third long passphrase' });
  const me: SignedIn = { ...user, accessToken: again.json().accessToken, auth: { authorization: `Bearer ${again.json().accessToken}` } };

  await inject(me, 'GET', '/user/me');
  await inject(me, 'PATCH', '/user/me', { name: 'Plan B' });

  const room = (await inject(me, 'POST', '/chatroom', { title: 'Plans', systemPrompt: 'Be brief.' })).json();
  const untitled = (await inject(me, 'POST', '/chatroom', {})).json(); // default title: the worker titles it
  await inject(me, 'POST', `/chatroom/${untitled.id}/message`, { content: 'Three sights in Rome' }, { prefer: 'wait=20' });
  await waitFor(async () => (await inject(me, 'GET', `/chatroom/${untitled.id}`)).json().title !== untitled.title, 15_000);
  await inject(me, 'GET', '/chatroom');
  await inject(me, 'PATCH', `/chatroom/${room.id}`, { title: 'Plans, renamed' });

  const upload = fileUpload('some notes about Lisbon', 'notes.txt');
  const file = (await inject(me, 'POST', '/files', upload.payload, upload.headers)).json();
  await inject(me, 'GET', '/files');
  await inject(me, 'GET', `/files/${file.id}`);
  await inject(me, 'GET', `/files/${file.id}/content`);

  const wait = { prefer: 'wait=20' };
  const first = (await inject(me, 'POST', `/chatroom/${room.id}/message`, { content: 'Plan a day in Lisbon', attachments: [file.id] }, { ...wait, 'idempotency-key': 'plans-1' })).json();
  await inject(me, 'POST', `/chatroom/${room.id}/message`, { content: 'Plan a day in Lisbon', attachments: [file.id] }, { ...wait, 'idempotency-key': 'plans-1' });
  const second = (await inject(me, 'POST', `/chatroom/${room.id}/message`, { content: 'And Porto?' }, wait)).json();
  await inject(me, 'GET', `/chatroom/${room.id}/latest`);
  await inject(me, 'GET', `/chatroom/${room.id}/messages/${second.reply.id}`);
  await inject(me, 'GET', `/chatroom/${room.id}/messages/${second.reply.id}/stream`);
  await inject(me, 'POST', `/chatroom/${room.id}/messages/${second.reply.id}/regenerate`, {}, wait);
  // An edit: another prompt under the first reply (a new branch), then switching back to the first branch.
  await inject(me, 'POST', `/chatroom/${room.id}/message`, { content: 'Plan a day in Sintra', parentId: first.reply.id }, wait);
  await inject(me, 'PATCH', `/chatroom/${room.id}`, { currentMessageId: second.userMessage.id });
  // A reply cancelled while queued (no worker run takes it first: the cancel is immediate).
  const queued = (await inject(me, 'POST', `/chatroom/${room.id}/message`, { content: 'Never mind' })).json();
  await s.app.inject({ method: 'POST', url: `/chatroom/${room.id}/messages/${queued.reply.id}/cancel`, headers: me.auth });
  await waitFor(async () => (await inject(me, 'GET', `/chatroom/${room.id}/latest`)).statusCode === 200);
  await inject(me, 'GET', `/chatroom/${room.id}`);
  const page = (await inject(me, 'GET', `/chatroom/${room.id}/messages?limit=2`)).json();
  if (page.nextCursor) await inject(me, 'GET', `/chatroom/${room.id}/messages?limit=2&cursor=${encodeURIComponent(page.nextCursor)}`);
  await inject(me, 'GET', `/chatroom/${room.id}/messages?leafId=${first.userMessage.id}`);
  const fork = (await inject(me, 'POST', `/chatroom/${room.id}/fork`, { messageId: first.reply.id })).json();
  await inject(me, 'GET', `/search?q=${encodeURIComponent('Lisbon')}`);

  const exported = (await inject(me, 'GET', `/chatroom/${room.id}/export?format=json`)).json();
  await inject(me, 'POST', '/chatroom/import', exported);
  const share = (await inject(me, 'POST', `/chatroom/${room.id}/shares`)).json();
  await inject(undefined, 'GET', `/s/${share.id}`);
  await inject(me, 'GET', '/shares');
  await inject(me, 'DELETE', `/shares/${share.id}`);

  const key = (await inject(me, 'POST', '/user/api-keys', { name: 'server' })).json();
  await inject(undefined, 'GET', '/chatroom', undefined, { authorization: `Bearer ${key.key}` });
  await inject(me, 'GET', '/user/api-keys');
  await inject(me, 'DELETE', `/user/api-keys/${key.id}`);

  await inject(me, 'GET', '/subscription/status');
  await inject(me, 'POST', '/subscribe/pro');
  await inject(me, 'POST', '/subscribe/pro'); // the open session again
  await untracked(() => subscribeAndPay({ ...s, fake } as unknown as BillingTestApp, me));
  await fake.webhooksIdle();
  await inject(me, 'GET', '/subscription/status');
  await inject(me, 'POST', '/subscription/portal');
  await inject(me, 'GET', '/user/me');
  await inject(me, 'GET', '/user/me/export');
  await inject(me, 'DELETE', `/chatroom/${fork.id}`);
  await inject(me, 'DELETE', `/files/${file.id}`);

  // Paths a short session does not reach (a reply written for more than a few seconds, a failed reply and its
  // refund, usage reported after a cancel, an expired checkout, a Gemini file copy gone): their repository calls, as the worker and API make them.
  const store = createStore(s.db);
  const reply = second.reply.id as string;
  await store.messages.saveProgress(reply, randomUUID(), 'partial');
  await store.messages.fail(reply, randomUUID(), { code: 'GEMINI_ERROR', message: 'failed' });
  await store.messages.refundApplied(reply);
  await store.messages.recordCancelledUsage(reply, randomUUID(), { inputTokens: 1, outputTokens: 1, thinkingTokens: 0, model: 'gemini-2.5-flash' });
  await store.checkoutSessions.renewAttempt(me.userId, PRO_PRICE, randomUUID());
  await store.attachments.forgetGeminiCopy(file.id, 'https://files.invalid/none');

  // The second user deletes the account: the job removes files and the row (its cascades are checked below).
  const leaving = await signIn(s.app);
  await inject(leaving, 'POST', '/chatroom', { title: 'Short stay' });
  const otp = (await post(s.app, '/auth/send-otp', { mobileNumber: leaving.mobileNumber, purpose: 'delete_account' })).json().otp;
  await inject(leaving, 'DELETE', '/user/me', { otp });
  await waitFor(() => untracked(async () => !(await s.db.selectFrom('users').select('id').where('id', '=', leaving.userId).executeTakeFirst())), 15_000);
  await new Promise((resolve) => setTimeout(resolve, 1500)); // a few sweeps of the worker's sweepers
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Plan Rows': number;
  'Index Cond'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

function* nodes(plan: PlanNode): Generator<PlanNode> {
  yield plan;
  for (const child of plan.Plans ?? []) yield* nodes(child);
}

interface Offence {
  origin: string;
  problem: string;
  sql: string;
}

async function explain(statement: CapturedStatement, seqscan: boolean): Promise<PlanNode> {
  return s.db.connection().execute(async (conn) => {
    await sql.raw(`set enable_seqscan = ${seqscan ? 'on' : 'off'}`).execute(conn);
    try {
      const { rows } = await conn.executeQuery<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
        CompiledQuery.raw(`explain (format json) ${statement.sql}`, statement.params),
      );
      return rows[0]!['QUERY PLAN'][0]!.Plan;
    } finally {
      await sql.raw('reset enable_seqscan').execute(conn);
    }
  });
}

const EXPLAINABLE = /^\s*(select|insert|update|delete|with)\b/i;
// The sweeps read across users by design: the pending ones in small partial indexes, the files sweep a page at a
// time in id order.
const ACROSS_USERS = new Set(['attachments.liveFilesPage', 'messages.findStalePending', 'messages.findPendingRefunds', 'accounts.pendingDeletions', 'idempotency.deleteOlderThan']);

describe('query plans on 200,000 messages of 1,000 users', () => {
  it('never scans a growing table, never estimates more rows than one user owns, and exercises every repository function', async () => {
    const counts = await sql<{ users: number; messages: number }>`
      select (select count(*)::int from users) as users, (select count(*)::int from message) as messages`.execute(s.db);
    expect(counts.rows[0]!.messages).toBeGreaterThanOrEqual(200_000);
    expect(counts.rows[0]!.users).toBeGreaterThanOrEqual(1000);
    console.log(`seeded ${counts.rows[0]!.messages} messages of ${counts.rows[0]!.users} users in ${seedSeconds.toFixed(1)} s`);

    installCapture();
    captured.capturing = true;
    captured.called.clear();
    try {
      await session();
    } finally {
      captured.capturing = false;
    }

    // One plan per distinct statement text (the first parameters it ran with; the sweeps' repeats add nothing).
    const distinct = new Map<string, CapturedStatement>();
    for (const statement of captured.statements) {
      if (EXPLAINABLE.test(statement.sql) && !distinct.has(statement.sql)) distinct.set(statement.sql, statement);
    }
    // Partial indexes hold only rows in a passing state (a refund to apply, a deletion to finish, a reply pending),
    // which the sweeps keep few: reading one end to end does not grow with the data.
    const partial = new Set(
      (await sql<{ name: string }>`select indexrelid::regclass::text as name from pg_index where indpred is not null
        and indrelid::regclass::text in (select tablename from pg_tables where schemaname = ${s.config.database.schema!})`.execute(s.db)).rows.map((r) => r.name),
    );
    const offences: Offence[] = [];
    for (const statement of distinct.values()) {
      const short = statement.sql.replace(/\s+/g, ' ').slice(0, 300);
      if (statement.origin === '(outside repositories)') {
        offences.push({ origin: statement.origin, problem: 'SQL issued outside packages/shared/src/repositories', sql: short });
      }
      const [planned, withoutSeqscan] = [await explain(statement, true), await explain(statement, false)];
      for (const node of nodes(withoutSeqscan)) {
        if (node['Node Type'] === 'Seq Scan' && GROWING.has(node['Relation Name'] ?? '')) {
          offences.push({ origin: statement.origin, problem: `Seq Scan on ${node['Relation Name']} (no index can serve it)`, sql: short });
        }
      }
      for (const node of nodes(planned)) {
        const relation = node['Relation Name'] ?? '';
        if (node['Node Type'] === 'Seq Scan' && GROWING.has(relation)) {
          offences.push({ origin: statement.origin, problem: `Seq Scan on ${relation}, est. ${node['Plan Rows']} rows`, sql: short });
        } else if (GROWING.has(relation) && node['Plan Rows'] > ROW_LIMIT && !ACROSS_USERS.has(statement.origin)) {
          offences.push({ origin: statement.origin, problem: `${node['Node Type']} on ${relation} via ${node['Index Name'] ?? '-'}, est. ${node['Plan Rows']} rows`, sql: short });
        } else if (GROWING.has(relation) && /^Index (Only )?Scan$/.test(node['Node Type']) && !node['Index Cond'] && !partial.has(node['Index Name'] ?? '') && !ACROSS_USERS.has(statement.origin)) {
          // An index read end to end (for its order) with the user filtered out row by row: every user's rows.
          offences.push({ origin: statement.origin, problem: `${node['Node Type']} of all of ${node['Index Name']} (filter: ${node.Filter ?? '-'})`, sql: short });
        }
      }
    }
    if (offences.length) {
      console.error(`query-plan offences (${offences.length}):\n${offences.map((o) => `  ${o.origin}: ${o.problem}\n      ${o.sql}`).join('\n')}`);
    }
    expect(offences.map((o) => `${o.origin}: ${o.problem}`)).toEqual([]);
    expect([...captured.tsvReads]).toEqual([]);

    const all = repositoryFunctions(createStore(s.db) as unknown as Record<string, unknown>);
    const missed = all.filter((fn) => !captured.called.has(fn) && !(fn in NOT_ISSUED));
    expect(missed).toEqual([]);
    console.log(`${distinct.size} distinct statements of ${captured.called.size} repository functions explained`);
  }, 90_000);

  it('reads the page of a 10,000-message chatroom with the work of a short one (GET /chatroom/:id)', async () => {
    const { rows } = await sql<{ id: string; user_id: string }>`
      select c.id, c.user_id from chatroom c join users u on u.id = c.user_id
      where u.name = 'Seeded v 1' and c.title in ('Seeded room 3', 'Seeded room 4') order by c.title`.execute(s.db);
    const [short, long] = rows;
    await s.db.connection().execute(async (conn) => {
      await sql`set statement_timeout = 0`.execute(conn);
      await seedLongChatroom((statement) => sql.raw(statement).execute(conn), long!.id, 10_000);
      await sql`reset statement_timeout`.execute(conn);
    });
    installCapture();
    captured.statements.length = 0;
    captured.capturing = true;
    const store = createStore(s.db);
    const pages = [await store.messages.chatroomPage(short!.user_id, short!.id, 21), await store.messages.chatroomPage(long!.user_id, long!.id, 21)];
    captured.capturing = false;
    expect(pages.map((page) => page?.messages.length)).toEqual([20, 21]);
    const [shortQuery, longQuery] = captured.statements.filter((st) => st.origin === 'messages.chatroomPage');
    // Buffers (8 kB pages) the whole statement touched: the top node's count includes every node below it.
    const blocks = async (statement: CapturedStatement) => {
      const { rows: plan } = await s.db.executeQuery<{ 'QUERY PLAN': Array<{ Plan: Record<string, number> }> }>(
        CompiledQuery.raw(`explain (analyze, buffers, format json) ${statement.sql}`, statement.params),
      );
      const top = plan[0]!['QUERY PLAN'][0]!.Plan;
      return top['Shared Hit Blocks']! + top['Shared Read Blocks']!;
    };
    const [shortBlocks, longBlocks] = [await blocks(shortQuery!), await blocks(longQuery!)];
    console.log(`GET /chatroom/:id statement: ${shortBlocks} buffers for 20 messages, ${longBlocks} for 10,020`);
    expect(longBlocks).toBeLessThanOrEqual(shortBlocks * 1.5 + 20);
  });

  it('backs every foreign key with an index (cascades and checks are not in any plan)', async () => {
    const { rows } = await sql<{ fk: string }>`
      select c.conrelid::regclass::text || '(' || (select string_agg(a.attname, ', ') from unnest(c.conkey) k
             join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k) || ')' as fk
      from pg_constraint c
      where c.contype = 'f' and c.connamespace = ${s.config.database.schema!}::regnamespace
        and not exists (
          select 1 from pg_index i
          where i.indrelid = c.conrelid and i.indpred is null
            and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey and c.conkey @> (i.indkey::int2[])[0:cardinality(c.conkey) - 1])
      order by 1`.execute(s.db);
    expect(rows.map((r) => r.fk)).toEqual([]);
  });
});
