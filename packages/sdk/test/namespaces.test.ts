import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '@gemini-chat/fakes';
import { craftJwt, pdfFixture, pngFixture, randomMobileNumber, startStack, waitFor, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '@gemini-chat/worker/worker';
import type {
  GeminiChatError} from '../src/index.js';
import { hasBilling, uncalledOperations, type SentRequest } from './support/contract.js';
import {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  createClient,
  isGeminiChatError,
  memoryTokenStore,
  NotFoundError,
  QuotaExceededError,
  type ClientOptions,
  type FetchLike,
  type GeminiChatClient,
  type Message,
  type ReplyEvent,
} from '../src/index.js';

// The 1.0 surface (resource namespaces, pages, withResponse, typed errors) end to end against the whole product:
// API on a real port, worker, fake Gemini, fake Stripe. Every operation of the contract is called through a
// namespace here (checked last).

const WEBHOOK_SECRET = 'whsec_sdk_namespaces';
const DAILY = 12;

let stack: Stack;
let stripe: FakeStripe | undefined;
let baseUrl: string;
const sent: SentRequest[] = [];

beforeAll(async () => {
  stripe = hasBilling ? await startFakeStripe({ webhookSecret: WEBHOOK_SECRET }) : undefined;
  stack = await startStack(
    {
      QUOTA_BASIC_DAILY: String(DAILY),
      ...(stripe ? { STRIPE_SECRET_KEY: 'sk_test_sdk', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_BASE_URL: stripe.url } : {}),
    },
    { startWorker },
  );
  baseUrl = await stack.app.listen({ port: 0, host: '127.0.0.1' });
  stripe?.setWebhookEndpoint({ url: `${baseUrl}/webhook/stripe` });
});
afterAll(async () => {
  await stripe?.webhooksIdle();
  await stack?.close();
  await stripe?.close();
});

const recording: FetchLike = (request) => {
  sent.push({ method: request.method, path: new URL(request.url).pathname, headers: new Headers(request.headers) });
  return fetch(request);
};
const newClient = (options: Partial<ClientOptions> = {}) => createClient({ baseUrl, fetch: recording, ...options });

async function signedIn(options: Partial<ClientOptions> = {}) {
  const client = newClient(options);
  const mobileNumber = randomMobileNumber();
  const { otpChallenge } = await client.auth.signup({ mobileNumber, name: 'Ada' });
  await client.auth.verifyOtp({ mobileNumber, otp: otpChallenge.otp! });
  return { client, mobileNumber };
}

async function failure(promise: PromiseLike<unknown>): Promise<GeminiChatError> {
  const err = await Promise.resolve(promise).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isGeminiChatError(err)) throw new Error(`expected a GeminiChatError, got ${String(err)}`);
  return err;
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function expireAccessToken(client: GeminiChatClient) {
  const tokens = (await client.tokens.get())!;
  const claims = JSON.parse(Buffer.from(tokens.accessToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  await client.tokens.set({ ...tokens, accessToken: craftJwt({ ...claims, iat: now - 1000, exp: now - 100 }, stack.config.auth.jwtSecret) });
}

describe('the 1.0 namespaces against a live API', () => {
  it('auth, user and health', async () => {
    const { client, mobileNumber } = await signedIn();
    expect(await client.health.check()).toEqual({ status: 'ok' });
    expect((await client.health.ready().withResponse()).status).toBe(200);

    const login = await client.auth.verifyOtp({ mobileNumber, otp: (await client.auth.sendOtp({ mobileNumber })).otp! });
    expect((await client.tokens.get())?.accessToken).toBe(login.accessToken);
    expect(await client.user.get()).toMatchObject({ mobileNumber, name: 'Ada', usage: { used: 0, limit: DAILY } });
    expect(await client.me.update({ name: 'Ada L.' })).toMatchObject({ name: 'Ada L.' });
    const changed = await client.auth.changePassword({ newPassword: 'first password 1' });
    expect((await client.tokens.get())?.accessToken).toBe(changed.accessToken);
    await client.auth.login({ mobileNumber, password: 'first password 1' });
    const rotated = await client.auth.refresh();
    expect(await client.tokens.get()).toEqual(rotated);

    const reset = await client.auth.forgotPassword({ mobileNumber });
    expect(await client.auth.resetPassword({ mobileNumber, otp: reset.otp!, newPassword: 'second password 2' })).toBeUndefined();
    await client.auth.login({ mobileNumber, password: 'second password 2' });
    await client.auth.logout();
    expect(await client.tokens.get()).toBeNull();
    const wrong = await failure(client.auth.login({ mobileNumber, password: 'nope nope nope' }));
    expect(wrong).toBeInstanceOf(AuthenticationError);
    expect(wrong.code).toBe('INVALID_CREDENTIALS');
  });

  it('chatrooms: create, page through the list, get, update, switch branch, fork, export, import, delete', async () => {
    const { client } = await signedIn();
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await client.chatrooms.create({ title: `Room ${i}` }));

    const first = await client.chatrooms.list({ limit: 2 });
    expect(first.data).toHaveLength(2);
    expect(first.items).toBe(first.data);
    expect(first.hasNextPage()).toBe(true);
    const second = await first.getNextPage();
    expect(second.data.map((r) => r.id)).not.toContain(first.data[0]!.id);
    // Every chatroom across the pages, newest first, without handling a cursor.
    const before = sent.length;
    const everyRoom = await all(client.chatrooms.list({ limit: 2 }));
    expect(everyRoom.map((r) => r.title)).toEqual(['Room 4', 'Room 3', 'Room 2', 'Room 1', 'Room 0']);
    expect(sent.slice(before).filter((r) => r.path === '/chatroom')).toHaveLength(3);
    const last = await (await second.getNextPage());
    expect(last.hasNextPage()).toBe(false);
    expect(last.nextCursor).toBeNull();
    await expect(last.getNextPage()).rejects.toThrow(/last page/);

    const room = made[0]!;
    expect(await client.chatrooms.update(room.id, { title: 'Lisbon' })).toMatchObject({ title: 'Lisbon' });
    const one = await client.messages.send(room.id, { content: 'First', wait: 10 });
    const two = await client.messages.send(room.id, { content: 'Second', wait: 10 });
    expect(two.prompt.parentId).toBe(one.reply.id);
    expect((await client.chatrooms.switchBranch(room.id, one.reply.id)).currentMessageId).toBe(two.reply.id);
    const fork = await client.chatrooms.fork(room.id, { messageId: one.reply.id });
    expect(fork.messages.map((m) => m.content)).toEqual([one.reply.content, 'First']);

    const file = await client.chatrooms.export(room.id);
    expect(file).toMatchObject({ format: 'gemini-chat.chatroom', chatroom: { title: 'Lisbon' } });
    expect(await client.chatrooms.export(room.id, { format: 'markdown' })).toContain('# Lisbon\n');
    const imported = await client.chatrooms.import(file, { idempotencyKey: 'import-once-1' });
    expect(await client.chatrooms.import(file, { idempotencyKey: 'import-once-1' })).toEqual(imported);
    expect((await client.chatrooms.get(imported.chatrooms[0]!.id)).messages).toHaveLength(4);

    expect(await client.chatrooms.delete(room.id)).toBeUndefined();
    const gone = await failure(client.chatrooms.get(room.id));
    expect(gone).toBeInstanceOf(NotFoundError);
    expect(gone).toMatchObject({ status: 404, code: 'CHATROOM_NOT_FOUND' });
  });

  it('messages: send with the quota in withResponse, page through a branch, edit, regenerate, stream, cancel', async () => {
    const { client } = await signedIn();
    const room = await client.chatrooms.create({ title: 'Messages' });

    const { data, rateLimit, requestId, status } = await client.messages.send(room.id, { content: 'Hello', wait: 10 }).withResponse();
    expect(status).toBe(200);
    expect(requestId).toBeTruthy();
    expect(rateLimit).toEqual({ limit: DAILY, remaining: DAILY - 1, reset: expect.any(Number) });
    expect(rateLimit.reset).toBeGreaterThan(0);
    const { prompt, reply } = data;
    expect(prompt).toMatchObject({ role: 'user', content: 'Hello' });
    expect(reply).toMatchObject({ role: 'assistant', status: 'completed', error: null, replyToId: prompt.id });
    // The send carried a generated Idempotency-Key, so it could be retried safely.
    const sendRequest = sent.findLast((r) => r.method === 'POST' && r.path.endsWith('/message'))!;
    expect(sendRequest.headers.get('idempotency-key')).toMatch(/^[0-9a-f-]{36}$/);
    expect(sendRequest.headers.get('prefer')).toBe('wait=10');

    await client.messages.send(room.id, { content: 'Two', wait: 10 });
    const three = await client.messages.send(room.id, { content: 'Three', wait: 10 });
    const branch: Message[] = await all(client.messages.list(room.id, { limit: 2 }));
    expect(branch.map((m) => m.role)).toEqual(['assistant', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(branch.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['Three', 'Two', 'Hello']);
    const page = await client.messages.list(room.id, { limit: 4 });
    expect([page.data.length, page.hasNextPage()]).toEqual([4, true]);

    expect(await client.messages.get(room.id, prompt.id)).toMatchObject({ id: prompt.id, role: 'user' });
    expect((await client.messages.latestReply(room.id)).id).toBe(three.reply.id);
    const edited = await client.messages.edit(room.id, three.prompt.id, { content: 'Three, better', wait: 10 });
    expect(edited.prompt).toMatchObject({ parentId: three.prompt.parentId, siblings: { index: 2, count: 2 } });
    const again = await client.messages.regenerate(room.id, edited.reply.id, { wait: 10 });
    expect(again.reply).toMatchObject({ status: 'completed', siblings: { index: 2, count: 2 } });

    // A finished reply replays in full.
    const events: ReplyEvent[] = await all(client.replies.stream(room.id, again.reply.id));
    expect(events.at(-1)).toMatchObject({ type: 'done', message: { id: again.reply.id } });

    // A slow reply: the chatroom is busy (409, not retried by default), then cancelled.
    const slow = await client.messages.send(room.id, { content: 'Long [[chunks:40]] [[slow:100]]' });
    const busy = await failure(client.messages.send(room.id, { content: 'Meanwhile' }));
    expect(busy).toBeInstanceOf(ConflictError);
    expect(busy.code).toBe('CHATROOM_BUSY');
    expect(await client.messages.cancel(room.id, slow.reply.id)).toMatchObject({ role: 'assistant', status: 'cancelled' });

    // A wait the API would refuse is refused before any request.
    const before = sent.length;
    await expect(client.messages.send(room.id, { content: 'x', wait: 61 })).rejects.toBeInstanceOf(RangeError);
    expect(sent.length).toBe(before);

    const invalid = await failure(client.messages.send(room.id, { content: '' }));
    expect(invalid).toBeInstanceOf(BadRequestError);
    expect(invalid.code).toBe('VALIDATION_FAILED');
  });

  it('files, search, shares, API keys and models, page by page', async () => {
    const { client } = await signedIn();
    const uploaded = [
      await client.files.upload(pngFixture(8, 8), { name: 'a.png' }),
      await client.files.upload(pdfFixture(1), { name: 'b.pdf' }),
      await client.files.upload(new TextEncoder().encode('notes\n'), { name: 'c.txt' }),
    ];
    expect((await all(client.files.list({ limit: 2 }))).map((f) => f.name)).toEqual(['c.txt', 'b.pdf', 'a.png']);
    expect(await client.files.get(uploaded[0]!.id)).toEqual(uploaded[0]);
    const head = await client.files.download(uploaded[0]!.id, { range: { start: 0, end: 7 } });
    expect([head.status, (await head.arrayBuffer()).byteLength]).toEqual([206, 8]);
    await client.files.delete(uploaded[2]!.id);
    expect((await client.files.list()).data).toHaveLength(2);

    const rooms = [];
    for (const title of ['Capybara one', 'Capybara two', 'Capybara three']) rooms.push(await client.chatrooms.create({ title }));
    const hits = await all(client.search.query('capybara', { limit: 1 }));
    expect(hits.map((h) => h.chatroomId).sort()).toEqual(rooms.map((r) => r.id).sort());

    for (const room of rooms.slice(0, 2)) await client.messages.send(room.id, { content: `About ${room.title}`, wait: 10 });
    const shares = [await client.shares.create(rooms[0]!.id), await client.shares.create(rooms[1]!.id)];
    expect((await all(client.shares.list({ limit: 1 }))).map((s) => s.id)).toEqual([shares[1]!.id, shares[0]!.id]);
    expect((await newClient().shares.get(shares[0]!.id)).title).toBe('Capybara one');
    await client.shares.delete(shares[0]!.id);
    expect(await failure(newClient().shares.get(shares[0]!.id))).toBeInstanceOf(NotFoundError);

    const key = await client.apiKeys.create({ name: 'script' });
    expect((await client.apiKeys.list()).items.map((k) => k.id)).toEqual([key.id]);
    const script = newClient({ apiKey: key.key });
    const models = await script.models.list();
    expect(models.data.filter((m) => m.default).map((m) => m.id)).toEqual([models.defaultModel]);
    expect(models.hasNextPage()).toBe(false);
    await client.apiKeys.revoke(key.id);
    expect(await failure(script.models.list())).toMatchObject({ name: 'AuthenticationError', code: 'INVALID_API_KEY' });
  });

  it.skipIf(!hasBilling)('billing: checkout, status, portal', async () => {
    const { client } = await signedIn();
    expect(await client.billing.status()).toMatchObject({ tier: 'basic' });
    const checkout = await client.billing.checkout();
    await stripe!.completeCheckout(checkout.sessionId);
    await waitFor(async () => (await client.billing.status()).tier === 'pro');
    expect((await client.billing.portal()).url).toMatch(/^http/);
  });

  it('the quota as a QuotaExceededError, never retried', async () => {
    const { client } = await signedIn();
    const room = await client.chatrooms.create();
    for (let i = 0; i < DAILY; i++) await client.messages.send(room.id, { content: `n${i}`, wait: 10 });
    const before = sent.length;
    const over = await failure(client.messages.send(room.id, { content: 'one too many' }));
    expect(over).toBeInstanceOf(QuotaExceededError);
    expect((over as QuotaExceededError).resetsAt!.getTime()).toBeGreaterThan(Date.now());
    expect(sent.length - before).toBe(1);
  });

  it('a reused refresh token: every waiting call rejects with REFRESH_TOKEN_REUSED, onSessionExpired runs once', async () => {
    const { client: first } = await signedIn();
    const stolen = (await first.tokens.get())!;
    await first.auth.refresh(); // the stolen pair's refresh token is now spent
    const expired: GeminiChatError[] = [];
    const second = newClient({ tokenStore: memoryTokenStore(stolen), onSessionExpired: (error) => void expired.push(error) });
    await expireAccessToken(second);

    const calls = await Promise.allSettled([second.user.get(), second.chatrooms.list(), second.files.list()]);
    for (const call of calls) {
      expect(call).toMatchObject({ status: 'rejected', reason: { name: 'AuthenticationError', status: 401, code: 'REFRESH_TOKEN_REUSED' } });
    }
    expect(expired.map((e) => e.code)).toEqual(['REFRESH_TOKEN_REUSED']);
    expect(await second.tokens.get()).toBeNull();
    // Reuse revokes the whole session: the first client is signed out too, and told so once.
    const firstExpired: string[] = [];
    const again = newClient({ tokenStore: first.tokens, onSessionExpired: (error) => void firstExpired.push(error.code) });
    await expireAccessToken(again);
    expect(await failure(again.user.get())).toBeInstanceOf(AuthenticationError);
    expect(firstExpired).toHaveLength(1);
  });

  it('the account: export, then delete with a delete_account code', async () => {
    const { client, mobileNumber } = await signedIn();
    expect(await client.user.export()).toMatchObject({ format: 'gemini-chat.account-export', profile: { mobileNumber } });
    const code = await client.auth.sendOtp({ mobileNumber, purpose: 'delete_account' });
    await client.user.delete({ otp: code.otp! });
    expect(await client.tokens.get()).toBeNull();
  });

  it('called every operation of the contract through a namespace (the Stripe webhook is called by Stripe)', () => {
    expect(uncalledOperations(sent)).toEqual([]);
  });
});
