import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '@gemini-chat/fakes';
import { craftJwt, elfFixture, pdfFixture, pngFixture, randomMobileNumber, startStack, waitFor, wavFixture, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '@gemini-chat/worker/worker';
import {
  createClient,
  GeminiChatError,
  memoryTokenStore,
  type FetchLike,
  type ReplyEvent,
  type Schemas,
  siblingLabel,
  type TokenStore,
} from '../src/index.js';
import { hasBilling, uncalledOperations, type SentRequest } from './support/contract.js';

// The SDK against the whole product (API on a real port, worker, fake Gemini, fake Stripe), over the real fetch,
// through the 0.1 method names that 1.0 keeps as deprecated aliases (namespaces.test.ts covers the 1.0 surface).

const WEBHOOK_SECRET = 'whsec_sdk_tests';

let stack: Stack;
let stripe: FakeStripe | undefined;
let baseUrl: string;
/** Every request any SDK client of this file sent: `POST /chatroom/{uuid}/message`, with its headers. */
const sent: SentRequest[] = [];

beforeAll(async () => {
  stripe = hasBilling ? await startFakeStripe({ webhookSecret: WEBHOOK_SECRET }) : undefined;
  stack = await startStack({
    QUOTA_BASIC_DAILY: '4',
    ...(stripe
      ? { STRIPE_SECRET_KEY: 'sk_test_sdk', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_BASE_URL: stripe.url }
      : {}),
  }, { startWorker });
  baseUrl = await stack.app.listen({ port: 0, host: '127.0.0.1' });
  stripe?.setWebhookEndpoint({ url: `${baseUrl}/webhook/stripe` });
});
afterAll(async () => {
  await stripe?.webhooksIdle();
  await stack?.close();
  await stripe?.close();
});

/** Records each request, then hands it to `inner` (the real fetch by default). */
const recording =
  (inner: FetchLike = (request) => fetch(request)): FetchLike =>
  (request) => {
    sent.push({ method: request.method, path: new URL(request.url).pathname, headers: new Headers(request.headers) });
    return inner(request);
  };

async function signedIn(options: { fetch?: FetchLike; tokenStore?: TokenStore } = {}) {
  const client = createClient({ baseUrl, fetch: recording(options.fetch), ...(options.tokenStore ? { tokenStore: options.tokenStore } : {}) });
  const mobileNumber = randomMobileNumber();
  const { otpChallenge } = await client.signup({ mobileNumber, name: 'Ada' });
  await client.verifyOtp({ mobileNumber, otp: otpChallenge.otp! });
  return { client, mobileNumber };
}

const text = (events: ReplyEvent[]) => events.map((e) => (e.type === 'delta' ? e.text : '')).join('');
async function collect(stream: AsyncIterable<ReplyEvent>, each?: (event: ReplyEvent) => void) {
  const events: ReplyEvent[] = [];
  for await (const event of stream) {
    events.push(event);
    each?.(event);
  }
  return events;
}
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The same access token, expired: the next protected call answers 401 TOKEN_EXPIRED. */
async function expireAccessToken(client: ReturnType<typeof createClient>) {
  const tokens = (await client.tokens.get())!;
  const claims = JSON.parse(Buffer.from(tokens.accessToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  const expired = craftJwt({ ...claims, iat: now - 1000, exp: now - 100 }, stack.config.auth.jwtSecret);
  await client.tokens.set({ ...tokens, accessToken: expired });
  return { expired, before: tokens };
}

async function failure(promise: Promise<unknown>): Promise<GeminiChatError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof GeminiChatError)) throw new Error(`expected a GeminiChatError, got ${String(err)}`);
  return err;
}

describe('the SDK against a live API', () => {
  it('drives an account, chatrooms and replies through every helper', async () => {
    const { client, mobileNumber } = await signedIn();
    expect((await client.api.GET('/health')).data).toEqual({ status: 'ok' });
    expect((await client.api.GET('/ready')).response.status).toBe(200);

    // Sign in again with a login code: the new tokens are stored by themselves.
    const before = await client.tokens.get();
    const challenge = await client.sendOtp({ mobileNumber });
    const login = await client.verifyOtp({ mobileNumber, otp: challenge.otp! });
    expect(await client.tokens.get()).toEqual({ accessToken: login.accessToken, refreshToken: login.refreshToken });
    expect(login.refreshToken).not.toBe(before?.refreshToken);

    expect(await client.getMe()).toMatchObject({ mobileNumber, name: 'Ada', tier: 'basic', hasPassword: false, usage: { used: 0, limit: 4 } });
    expect(await client.updateMe({ name: 'Ada L.', email: 'ada@example.com' })).toMatchObject({ name: 'Ada L.', email: 'ada@example.com' });
    const models = await client.listModels();
    expect(models.items.filter((m) => m.default).map((m) => m.id)).toEqual([models.defaultModel]);
    const changed = await client.changePassword({ newPassword: 'first password 1' });
    expect((await client.tokens.get())?.accessToken).toBe(changed.accessToken);
    await client.login({ mobileNumber, password: 'first password 1' });

    // A password reset revokes every session: the stored tokens stop working, the refresh is refused (the call
    // rejects with the refresh's own answer), the store is cleared; signing in again works.
    const reset = await client.forgotPassword({ mobileNumber });
    await client.resetPassword({ mobileNumber, otp: reset.otp!, newPassword: 'second password 2' });
    const revoked = await failure(client.getMe());
    expect(revoked).toMatchObject({ name: 'AuthenticationError', status: 401, code: 'REFRESH_TOKEN_INVALID' });
    expect(await client.tokens.get()).toBeNull();
    await client.login({ mobileNumber, password: 'second password 2' });

    // Chatrooms
    const room = await client.createChatroom({ title: 'Trip ideas', systemPrompt: 'Be brief.' });
    expect((await client.listChatrooms({ limit: 10 })).items.map((r) => r.id)).toContain(room.id);
    expect(await client.updateChatroom(room.id, { title: 'Lisbon' })).toMatchObject({ id: room.id, title: 'Lisbon' });
    expect(await client.getChatroom(room.id)).toMatchObject({ title: 'Lisbon', messages: [], hasMoreMessages: false });

    // A prompt held until its reply is done (Prefer: wait), with a generated idempotency key.
    const first = await client.sendMessage(room.id, 'Plan a day in Lisbon', { wait: 10, idempotencyKey: true });
    expect(first.reply).toMatchObject({ status: 'completed', replyToId: first.userMessage.id });
    const sendRequest = sent.findLast((r) => r.method === 'POST' && r.path.endsWith('/message'))!;
    expect(sendRequest.headers.get('prefer')).toBe('wait=10');
    expect(sendRequest.headers.get('idempotency-key')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    expect((await client.listMessages(room.id, { limit: 10 })).items.map((m) => m.id)).toEqual([first.reply.id, first.userMessage.id]);
    expect(await client.getMessage(room.id, first.reply.id)).toEqual(first.reply);
    expect((await client.getLatestReply(room.id)).id).toBe(first.reply.id);

    // A finished reply replays in full and ends.
    const replay = await collect(client.streamReply(room.id, first.reply.id));
    expect(text(replay)).toBe(first.reply.content);
    expect(replay.at(-1)).toMatchObject({ type: 'done', message: { id: first.reply.id, status: 'completed' } });
    // Resuming after the final event: nothing more (the API answers 204).
    expect(await collect(client.streamReply(room.id, first.reply.id, { lastEventId: replay.at(-1)!.id }))).toEqual([]);

    const again = await client.regenerateReply(room.id, first.reply.id, { wait: 10 });
    expect(again.reply).toMatchObject({ status: 'completed', replyToId: first.userMessage.id });
    expect(again.reply.id).not.toBe(first.reply.id);
    // A fork is a new chatroom with a copy of the branch; it is not charged.
    const fork = await client.forkChatroom(room.id, again.reply.id);
    expect(fork.id).not.toBe(room.id);
    expect(fork.messages.map((m) => m.content)).toEqual([again.reply.content, 'Plan a day in Lisbon']);

    // A slow reply: stop watching it (AbortSignal), cancel it, and watch its end.
    const slow = await client.sendMessage(room.id, 'A long story [[chunks:30]] [[slow:100]]');
    expect(['queued', 'generating']).toContain(slow.reply.status);
    const stop = new AbortController();
    const watched: ReplyEvent[] = [];
    await expect(
      collect(client.streamReply(room.id, slow.reply.id, { signal: stop.signal }), (event) => {
        watched.push(event);
        if (event.type === 'delta') stop.abort();
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(watched).toHaveLength(1);
    const busy = await failure(client.sendMessage(room.id, 'Meanwhile'));
    expect(busy).toMatchObject({ status: 409, code: 'CHATROOM_BUSY' });
    const cancelled = await client.cancelReply(room.id, slow.reply.id);
    expect(cancelled.status).toBe('cancelled');
    const ending = await collect(client.streamReply(room.id, slow.reply.id, { lastEventId: watched[0]!.id }));
    expect(ending.at(-1)).toMatchObject({ type: 'done', message: { status: 'cancelled' } });
    expect(text(watched) + text(ending)).toBe((await client.getMessage(room.id, slow.reply.id)).content);

    // Four prompts today (first, regenerate, slow and this one; the busy one was refunded): the fifth is over quota.
    expect((await client.sendMessage(room.id, 'One more', { wait: 10 })).reply.status).toBe('completed');
    const over = await failure(client.sendMessage(room.id, 'Too many'));
    expect(over).toMatchObject({ status: 429, code: 'QUOTA_EXCEEDED' });
    expect(over.retryAfterSeconds).toBeGreaterThan(0);
    expect(over.requestId).toBeTruthy();
    expect((await client.getMe()).usage).toMatchObject({ used: 4, limit: 4 });

    await client.deleteChatroom(room.id);
    expect(await failure(client.getChatroom(room.id))).toMatchObject({ status: 404, code: 'CHATROOM_NOT_FOUND' });

    const rotated = await client.refresh();
    expect(await client.tokens.get()).toEqual(rotated);
    await client.logout();
    expect(await client.tokens.get()).toBeNull();
    expect(await failure(client.getMe())).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    // The revoked refresh token is refused.
    const reused = await failure(createClient({ baseUrl, fetch: recording(), tokenStore: memoryTokenStore(rotated) }).refresh());
    expect(reused.status).toBe(401);
  });

  it('edits a prompt, regenerates an older reply, switches branch, lists a branch by leaf and forks', async () => {
    const { client } = await signedIn();
    const room = await client.createChatroom({ title: 'Branches' });
    const one = await client.sendMessage(room.id, 'First question', { wait: 10 });
    const two = await client.sendMessage(room.id, 'Second question', { wait: 10 });
    expect(two.userMessage.parentId).toBe(one.reply.id);
    const contents = async (options?: Parameters<typeof client.listMessages>[1]) =>
      (await client.listMessages(room.id, options)).items.map((m) => m.content);
    const original = await contents();
    expect(original).toEqual([two.reply.content, 'Second question', one.reply.content, 'First question']);

    // Editing the second prompt (by id: the SDK looks it up) starts a branch beside it; the new branch is current.
    const edited = await client.editPrompt(room.id, two.userMessage.id, 'Second question, better', { wait: 10 });
    expect(edited.userMessage).toMatchObject({ parentId: one.reply.id, siblings: { index: 2, count: 2, previousId: two.userMessage.id } });
    expect(siblingLabel(edited.userMessage)).toMatchObject({ text: '‹ 2 / 2 ›', hasPrevious: true, hasNext: false });
    expect((await client.getChatroom(room.id)).currentMessageId).toBe(edited.reply.id);
    expect(await contents()).toEqual([edited.reply.content, 'Second question, better', one.reply.content, 'First question']);

    // Switching back to the original prompt shows its branch again, untouched (its newest leaf becomes current).
    const back = await client.switchBranch(room.id, edited.userMessage.siblings.previousId!);
    expect(back.currentMessageId).toBe(two.reply.id);
    expect(await contents()).toEqual(original);
    const [, shownPrompt] = (await client.listMessages(room.id)).items;
    expect(siblingLabel(shownPrompt!)).toMatchObject({ index: 1, count: 2, nextId: edited.userMessage.id, text: '‹ 1 / 2 ›' });

    // Regenerating the first (older) reply adds a sibling to it and makes that branch current.
    const again = await client.regenerate(room.id, one.reply.id, { wait: 10 });
    expect(again.reply).toMatchObject({ parentId: one.userMessage.id, siblings: { index: 2, count: 2, previousId: one.reply.id } });
    expect(await contents()).toEqual([again.reply.content, 'First question']);
    const firstReply = await client.getMessage(room.id, one.reply.id);
    expect(firstReply.siblings).toMatchObject({ index: 1, count: 2, nextId: again.reply.id });

    // Any branch can be read without switching to it.
    expect(await contents({ leafId: edited.reply.id })).toEqual([edited.reply.content, 'Second question, better', one.reply.content, 'First question']);
    // A message with descendants stands for the newest leaf beneath it: here the edited branch.
    expect(await contents({ leafId: one.reply.id, limit: 2 })).toEqual([edited.reply.content, 'Second question, better']);
    expect((await client.getChatroom(room.id)).currentMessageId).toBe(again.reply.id);

    // A fork copies the path up to a reply into a new chatroom (new ids), leaving the original as it was.
    const fork = await client.forkChatroom(room.id, two.reply.id);
    expect(fork.messages.map((m) => m.content)).toEqual(original);
    expect(fork.messages.map((m) => m.id)).not.toContain(two.reply.id);
    expect(fork.currentMessageId).toBe(fork.messages[0]!.id);
    expect((await client.getChatroom(room.id)).currentMessageId).toBe(again.reply.id);

    // Errors of the tree: a prompt is not a reply to regenerate or fork from, nor a parent for a prompt.
    expect(await failure(client.regenerate(room.id, one.userMessage.id))).toMatchObject({ status: 400, code: 'NOT_A_REPLY' });
    expect(await failure(client.forkChatroom(room.id, one.userMessage.id))).toMatchObject({ status: 400, code: 'NOT_A_REPLY' });
    expect(await failure(client.sendMessage(room.id, 'x', { parentId: one.userMessage.id }))).toMatchObject({
      status: 400,
      code: 'PARENT_NOT_A_REPLY',
    });
  });

  it.skipIf(!hasBilling)('subscribes to Pro through Stripe Checkout and sees the upgrade', async () => {
    const { client } = await signedIn();
    expect(await client.getSubscriptionStatus()).toMatchObject({ tier: 'basic', status: 'none' });
    expect(await failure(client.createBillingPortalSession())).toMatchObject({ status: 409, code: 'NO_BILLING_ACCOUNT' });
    const checkout = await client.subscribePro();
    expect(checkout.checkoutUrl).toMatch(/^http/);
    await stripe!.completeCheckout(checkout.sessionId);
    await waitFor(async () => (await client.getSubscriptionStatus()).tier === 'pro');
    expect(await client.getSubscriptionStatus()).toMatchObject({ tier: 'pro', status: 'active' });
    expect((await client.createBillingPortalSession()).url).toMatch(/^http/);
    expect(await failure(client.subscribePro())).toMatchObject({ status: 409, code: 'ALREADY_SUBSCRIBED' });
  });

  it('turns problem documents into typed errors', async () => {
    const { client, mobileNumber } = await signedIn();
    const missing = await failure(client.getChatroom('00000000-0000-4000-8000-000000000000'));
    expect(missing).toMatchObject({ name: 'NotFoundError', status: 404, code: 'CHATROOM_NOT_FOUND', errors: [] });
    expect(missing.detail).toBeTruthy();
    expect(missing.message).toBe(`CHATROOM_NOT_FOUND: ${missing.detail}`);

    const invalid = await failure(client.createChatroom({ title: '', colour: 'red' } as never));
    expect(invalid).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(invalid.errors.length).toBeGreaterThan(0);
    expect(invalid.errors[0]).toMatchObject({ in: 'body' });
    expect(invalid.problem).toMatchObject({ status: 400, title: expect.any(String), type: expect.any(String) });

    expect(await failure(client.signup({ mobileNumber }))).toMatchObject({ status: 409, code: 'MOBILE_NUMBER_TAKEN' });
    // A 401 from a public route is an answer, not an expired session: no refresh is attempted.
    const refreshesBefore = sent.filter((r) => r.path === '/auth/refresh').length;
    expect(await failure(client.login({ mobileNumber, password: 'not the password' }))).toMatchObject({ status: 401, code: 'INVALID_CREDENTIALS' });
    expect(sent.filter((r) => r.path === '/auth/refresh').length).toBe(refreshesBefore);
    expect(await client.tokens.get()).not.toBeNull();
  });

  it('refreshes an expired access token once for five concurrent calls, and retries each of them', async () => {
    const refreshes: Request[] = [];
    const { client } = await signedIn({
      fetch: (request) => {
        if (new URL(request.url).pathname === '/auth/refresh') refreshes.push(request);
        return fetch(request);
      },
    });
    const { expired, before: tokens } = await expireAccessToken(client);
    const probe = await fetch(`${baseUrl}/user/me`, { headers: { authorization: `Bearer ${expired}` } });
    expect(await probe.json()).toMatchObject({ status: 401, code: 'TOKEN_EXPIRED' });

    const results = await Promise.all([
      client.getMe(),
      client.listChatrooms(),
      client.createChatroom({ title: 'Made while refreshing' }),
      client.getMe(),
      client.listChatrooms({ limit: 1 }),
    ]);
    expect(results).toHaveLength(5);
    expect(refreshes).toHaveLength(1);
    const fresh = (await client.tokens.get())!;
    expect(fresh.accessToken).not.toBe(expired);
    expect(fresh.refreshToken).not.toBe(tokens.refreshToken);
    const withToken = (token: string) => sent.filter((r) => r.headers.get('authorization') === `Bearer ${token}`).length;
    expect([withToken(expired), withToken(fresh.accessToken)]).toEqual([5, 5]); // each call: refused once, retried once
    // The retried POST went through once: one chatroom.
    expect((await client.listChatrooms()).items.filter((r) => r.title === 'Made while refreshing')).toHaveLength(1);
  });

  it('clears the tokens when the refresh is refused', async () => {
    let refreshes = 0;
    const store = memoryTokenStore();
    const { client } = await signedIn({
      tokenStore: store,
      fetch: (request) => {
        if (new URL(request.url).pathname === '/auth/refresh') refreshes += 1;
        return fetch(request);
      },
    });
    await store.set({ accessToken: 'not.a.jwt', refreshToken: 'not-a-refresh-token' });
    const calls = await Promise.allSettled([client.getMe(), client.listChatrooms(), client.getMe()]);
    for (const call of calls) expect(call).toMatchObject({ status: 'rejected', reason: { name: 'AuthenticationError', status: 401, code: 'REFRESH_TOKEN_INVALID' } });
    expect(refreshes).toBe(1);
    expect(await store.get()).toBeNull();
  });

  it('resumes a reply stream after the connection is cut: every chunk once, in order', async () => {
    let cut = false;
    const streamRequests: Headers[] = [];
    // Lets two body chunks of the first stream response through, then fails the connection.
    const cutOnce: FetchLike = async (request) => {
      const response = await fetch(request);
      if (!request.url.endsWith('/stream')) return response;
      streamRequests.push(new Headers(request.headers));
      if (cut || !response.body) return response;
      cut = true;
      const upstream = response.body.getReader();
      let chunks = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (chunks++ === 2) {
            await upstream.cancel();
            controller.error(new TypeError('terminated: other side closed'));
            return;
          }
          const { value, done } = await upstream.read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    };
    const { client } = await signedIn({ fetch: cutOnce });
    const room = await client.createChatroom();
    const { reply } = await client.sendMessage(room.id, 'Resume me [[chunks:8]] [[slow:80]]');

    const events = await collect(client.streamReply(room.id, reply.id, { retryDelayMs: 20 }));
    expect(cut).toBe(true);
    expect(streamRequests).toHaveLength(2);
    const resumedAfter = streamRequests[1]!.get('last-event-id');
    expect(resumedAfter).toBeTruthy();
    expect(events.map((e) => e.id)).toContain(resumedAfter);
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const stored = await client.getMessage(room.id, reply.id);
    expect(stored.status).toBe('completed');
    expect(text(events)).toBe(stored.content);
    expect(events.filter((e) => e.type === 'delta').length).toBeGreaterThanOrEqual(8);
    expect(events.at(-1)).toMatchObject({ type: 'done', message: { id: reply.id, content: stored.content } });
  });

  it('retries a send whose answer was lost with the same Idempotency-Key: one message, one charge', async () => {
    let lost = false;
    // The first send reaches the API and is stored, but its answer never arrives.
    const losesFirstAnswer: FetchLike = async (request) => {
      const response = await fetch(request);
      if (request.method === 'POST' && request.url.endsWith('/message') && !lost) {
        lost = true;
        await response.body?.cancel();
        throw new TypeError('fetch failed');
      }
      return response;
    };
    const { client } = await signedIn({ fetch: losesFirstAnswer });
    const room = await client.createChatroom();
    const result = await client.sendMessage(room.id, 'Exactly once please', { idempotencyKey: 'sdk-test-key-1', wait: 10 });
    expect(lost).toBe(true);
    const attempts = sent.filter((r) => r.method === 'POST' && r.path === `/chatroom/${room.id}/message`);
    expect(attempts.map((r) => r.headers.get('idempotency-key'))).toEqual(['sdk-test-key-1', 'sdk-test-key-1']);
    expect((await client.listMessages(room.id)).items.map((m) => m.id)).toEqual([result.reply.id, result.userMessage.id]);
    expect((await client.getMe()).usage.used).toBe(1);

    // Without a key, a lost answer is not retried: the SDK cannot know whether it was stored.
    lost = false;
    const other = await client.createChatroom();
    await expect(client.sendMessage(other.id, 'At most once', { idempotencyKey: false })).rejects.toMatchObject({
      name: 'APIConnectionError',
      code: 'CONNECTION_ERROR',
      cause: expect.any(TypeError),
    });
  });

  it('uploads bytes, a Blob and a File, sends them with a prompt, downloads them and shows a deleted one as deleted', async () => {
    const { client } = await signedIn();
    const png = new Uint8Array(pngFixture(64, 64));
    const pdf = pdfFixture(2);
    const wav = wavFixture();

    // Raw bytes: no name or type given, so the name is "file" and the type is what the server finds in the bytes.
    const image = await client.uploadFile(png);
    expect(image).toMatchObject({ name: 'file', mimeType: 'image/png', sizeBytes: png.byteLength, sha256: sha256(png) });
    // A Blob with its type, named by the caller.
    const report = await client.uploadFile(new Blob([pdf], { type: 'application/pdf' }), { name: 'report.pdf' });
    expect(report).toMatchObject({ name: 'report.pdf', mimeType: 'application/pdf', pageCount: 2, sizeBytes: pdf.length, sha256: sha256(pdf) });
    // A File brings its own name and type.
    const voice = await client.uploadFile(new File([wav], 'hello.wav', { type: 'audio/wav' }));
    expect(voice).toMatchObject({ name: 'hello.wav', mimeType: 'audio/wav', sizeBytes: wav.length, sha256: sha256(wav) });
    // An ArrayBuffer, named: the extension says Markdown.
    const notes = await client.uploadFile(new TextEncoder().encode('# Notes\n\n- bring water\n').buffer, { name: 'notes.md' });
    expect(notes).toMatchObject({ name: 'notes.md', mimeType: 'text/markdown' });

    expect(await client.getFile(report.id)).toEqual(report);
    expect((await client.listFiles({ limit: 10 })).items.map((f) => f.id)).toEqual([notes.id, voice.id, report.id, image.id]);
    const firstPage = await client.listFiles({ limit: 3 });
    expect(firstPage.nextCursor).toBeTruthy();
    expect((await client.listFiles({ limit: 3, cursor: firstPage.nextCursor! })).items.map((f) => f.id)).toEqual([image.id]);

    // The bytes come back as stored, whole or by range.
    const whole = await client.downloadFile(image.id);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('image/png');
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(png);
    const head = await client.downloadFile(image.id, { range: { start: 0, end: 7 } });
    expect(head.status).toBe(206);
    expect(head.headers.get('content-range')).toBe(`bytes 0-7/${png.byteLength}`);
    expect(new Uint8Array(await (await head.blob()).arrayBuffer())).toEqual(png.subarray(0, 8));
    const tail = await client.downloadFile(image.id, { range: 'bytes=-12' });
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(png.subarray(-12));
    expect(await failure(client.downloadFile(image.id, { range: { start: png.byteLength + 10 } }))).toMatchObject({
      status: 416,
      code: 'RANGE_NOT_SATISFIABLE',
    });

    // A prompt with two of them, in the order given; read back the same way.
    const room = await client.createChatroom({ title: 'With files' });
    const sent = await client.sendMessage(room.id, 'What is in these?', { attachments: [image.id, voice.id], wait: 10 });
    const shown = (file: Schemas['File'], deleted = false) => ({ id: file.id, name: file.name, mimeType: file.mimeType, sizeBytes: file.sizeBytes, deleted });
    expect(sent.userMessage.attachments).toEqual([shown(image), shown(voice)]);
    expect(sent.reply).toMatchObject({ status: 'completed', attachments: [] });
    expect((await client.getMessage(room.id, sent.userMessage.id)).attachments).toEqual([shown(image), shown(voice)]);
    const [, prompt] = (await client.listMessages(room.id)).items;
    expect(prompt).toMatchObject({ id: sent.userMessage.id, attachments: [shown(image), shown(voice)] });

    // Editing the prompt (by id) keeps its files; `attachments` replaces them.
    const edited = await client.editPrompt(room.id, sent.userMessage.id, 'And now?', { wait: 10 });
    expect(edited.userMessage.attachments).toEqual([shown(image), shown(voice)]);
    const replaced = await client.editPrompt(room.id, sent.userMessage, 'Only the report', { attachments: [report.id], wait: 10 });
    expect(replaced.userMessage.attachments).toEqual([shown(report)]);

    // Someone else cannot see, fetch, delete or attach these files: not found, as for a missing one.
    const { client: other } = await signedIn();
    expect(await failure(other.getFile(image.id))).toMatchObject({ status: 404, code: 'FILE_NOT_FOUND' });
    expect(await failure(other.downloadFile(image.id))).toMatchObject({ status: 404, code: 'FILE_NOT_FOUND' });
    expect(await failure(other.deleteFile(image.id))).toMatchObject({ status: 404, code: 'FILE_NOT_FOUND' });
    const theirs = await other.createChatroom();
    expect(await failure(other.sendMessage(theirs.id, 'Mine now', { attachments: [image.id] }))).toMatchObject({ status: 404, code: 'FILE_NOT_FOUND' });
    expect((await other.listFiles()).items).toEqual([]);

    // Deleted: gone from the list and its routes, shown as deleted on the prompt that carried it.
    await client.deleteFile(image.id);
    expect(await failure(client.getFile(image.id))).toMatchObject({ status: 404, code: 'FILE_NOT_FOUND' });
    expect(await failure(client.downloadFile(image.id))).toMatchObject({ status: 404, code: 'FILE_NOT_FOUND' });
    expect((await client.listFiles()).items.map((f) => f.id)).not.toContain(image.id);
    const after = await client.getMessage(room.id, sent.userMessage.id);
    expect(after.attachments).toEqual([shown(image, true), shown(voice)]);
    // An edit of that prompt carries only the file that still exists.
    const afterDelete = await client.editPrompt(room.id, after, 'Without the image', { wait: 10 });
    expect(afterDelete.userMessage.attachments).toEqual([shown(voice)]);
  });

  it('refreshes an expired access token during an upload and sends the whole file again', async () => {
    const uploads: Request[] = [];
    const { client } = await signedIn({
      fetch: (request) => {
        if (new URL(request.url).pathname === '/files') uploads.push(request);
        return fetch(request);
      },
    });
    const { expired } = await expireAccessToken(client);
    const png = pngFixture(300, 200);
    const file = await client.uploadFile(new File([png], 'photo.png', { type: 'image/png' }));
    expect(file).toMatchObject({ name: 'photo.png', mimeType: 'image/png', sizeBytes: png.length, sha256: sha256(png) });
    const fresh = (await client.tokens.get())!.accessToken;
    expect(fresh).not.toBe(expired);
    expect(uploads.map((r) => r.headers.get('authorization'))).toEqual([`Bearer ${expired}`, `Bearer ${fresh}`]);
    expect(uploads.every((r) => r.headers.get('content-type')?.startsWith('multipart/form-data; boundary='))).toBe(true);
    expect((await client.listFiles()).items.map((f) => f.id)).toEqual([file.id]);
  });

  it('turns refused uploads into typed errors and stores nothing', async () => {
    const { client } = await signedIn();
    const refused = await failure(client.uploadFile(elfFixture(), { name: 'tool' }));
    expect(refused).toMatchObject({ name: 'GeminiChatError', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(refused.detail).toBeTruthy();
    // A claimed type the bytes contradict.
    expect(await failure(client.uploadFile(pngFixture(), { type: 'application/pdf' }))).toMatchObject({ status: 415, code: 'FILE_TYPE_MISMATCH' });
    const mislabelled = new File([pngFixture()], 'photo.png', { type: 'application/pdf' });
    expect(await failure(client.uploadFile(mislabelled))).toMatchObject({ status: 415, code: 'FILE_TYPE_MISMATCH' });
    expect(await failure(client.uploadFile(new Uint8Array(0)))).toMatchObject({ status: 400, code: 'EMPTY_FILE' });
    expect((await client.listFiles()).items).toEqual([]);
    // `type: ''` drops a File's own (wrong) claim; its name still goes.
    expect(await client.uploadFile(mislabelled, { type: '' })).toMatchObject({ name: 'photo.png', mimeType: 'image/png' });

    // Bytes in shared memory (which a Blob cannot hold) are copied and sent.
    const text = new TextEncoder().encode('plain words\n');
    const shared = new Uint8Array(new SharedArrayBuffer(text.length));
    shared.set(text);
    expect(await client.uploadFile(shared, { name: 'words.txt' })).toMatchObject({ mimeType: 'text/plain', sha256: sha256(text) });
    expect((await client.listFiles()).items.map((f) => f.name)).toEqual(['words.txt', 'photo.png']);

    // An aborted upload rejects at once.
    const stop = new AbortController();
    stop.abort();
    await expect(client.uploadFile(pngFixture(), { signal: stop.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('exports a chatroom as JSON and Markdown and imports it back, once per Idempotency-Key', async () => {
    const { client } = await signedIn();
    const room = await client.createChatroom({ title: 'Round trip' });
    const sent = await client.sendMessage(room.id, 'Export me', { wait: 10 });
    const file = await client.exportChatroom(room.id);
    expect(file).toMatchObject({ format: 'gemini-chat.chatroom', version: 1, chatroom: { title: 'Round trip', currentMessageId: sent.reply.id } });
    expect(file.messages.map((m) => [m.role, m.content])).toEqual([['user', 'Export me'], ['assistant', sent.reply.content]]);
    const markdown = await client.exportChatroom(room.id, 'markdown');
    expect(markdown).toContain('# Round trip\n');
    expect(markdown).toContain('## User\n\nExport me');

    const key = globalThis.crypto.randomUUID();
    const imported = await client.importChatrooms(file, { idempotencyKey: key });
    expect(imported).toMatchObject({ chatrooms: [{ title: 'Round trip', messageCount: 2 }], skipped: [] });
    expect(await client.importChatrooms(file, { idempotencyKey: key })).toEqual(imported);
    const copy = await client.getChatroom(imported.chatrooms[0]!.id);
    expect(copy.messages.map((m) => m.content)).toEqual([sent.reply.content, 'Export me']);
    expect((await failure(client.importChatrooms([] as never))).code).toBe('VALIDATION_FAILED');
  });

  it('searches the user\'s titles and messages, page by page, and refuses a query with no words', async () => {
    const { client } = await signedIn();
    const room = await client.createChatroom({ title: 'Capybara facts' });
    await client.sendMessage(room.id, 'Tell me about the capybara');
    const first = await client.search('capybara', { limit: 1 });
    expect(first.items).toEqual([expect.objectContaining({ chatroomId: room.id, messageId: null, snippet: 'Capybara facts', highlights: [{ start: 0, end: 8 }] })]);
    const second = await client.search('capybara', { limit: 1, cursor: first.nextCursor! });
    expect(second.items).toEqual([expect.objectContaining({ chatroomId: room.id, messageId: expect.any(String), role: 'user', snippet: 'Tell me about the capybara' })]);
    expect(await failure(client.search('-'))).toMatchObject({ name: 'BadRequestError', status: 400, code: 'SEARCH_QUERY_EMPTY' });
  });

  it('API keys: a signed-in user makes one; a server script with only the key chats; revoked, it is refused', async () => {
    const { client: owner } = await signedIn();
    const created = await owner.createApiKey({ name: 'nightly digest', expiresInDays: 7 });
    expect(created.key).toMatch(/^gck_[0-9A-Za-z]{43}$/);
    expect((await owner.listApiKeys()).items).toEqual([expect.objectContaining({ id: created.id, prefix: created.prefix, lastUsedAt: null })]);
    expect(JSON.stringify(await owner.listApiKeys())).not.toContain(created.key);

    // The script: no sign-in, no token store, just the key.
    const script = createClient({ baseUrl, fetch: recording(), apiKey: created.key });
    const room = await script.createChatroom({ title: 'digest' });
    const result = await script.sendMessage(room.id, 'Summarise today', { wait: 10 });
    expect(result.reply.status).toBe('completed');
    expect((await script.listModels()).items.length).toBeGreaterThan(0);
    const lastScriptRequest = sent.at(-1)!;
    expect(lastScriptRequest.headers.get('authorization')).toBe(`Bearer ${created.key}`);
    // Account and key management are not for keys, and a key is never "refreshed".
    expect(await failure(script.getMe())).toMatchObject({ status: 403, code: 'API_KEY_NOT_ALLOWED' });
    expect(await failure(script.createApiKey({ name: 'more' }))).toMatchObject({ status: 403, code: 'API_KEY_NOT_ALLOWED' });
    expect(await failure(script.refresh())).toMatchObject({ status: 401 });

    await owner.revokeApiKey(created.id);
    const before = sent.length;
    expect(await failure(script.listChatrooms())).toMatchObject({ status: 401, code: 'INVALID_API_KEY' });
    expect(sent.slice(before).map((r) => r.path)).toEqual(['/chatroom']); // no refresh attempted
    expect((await owner.listApiKeys()).items).toEqual([]);
    expect((await owner.listChatrooms()).items.map((r) => r.id)).toContain(room.id);
  });

  it('exports the account, then deletes it with a delete_account code and forgets the dead tokens', async () => {
    const { client, mobileNumber } = await signedIn();
    const room = await client.createChatroom({ title: 'Keep me' });
    const exported = await client.exportAccount();
    expect(exported).toMatchObject({ format: 'gemini-chat.account-export', version: 1, profile: { mobileNumber, name: 'Ada' } });
    expect(exported.chatrooms.map((c) => c.chatroom.title)).toEqual([room.title]);
    // Each chatroom of it is a chatroom export: it imports as it is.
    const imported = await client.importChatrooms(exported.chatrooms[0]!);
    expect(imported.chatrooms).toEqual([{ id: expect.any(String), title: 'Keep me', messageCount: 0 }]);

    // A login code does not delete; the delete_account code does.
    const login = await client.sendOtp({ mobileNumber });
    expect(await failure(client.deleteAccount(login.otp!))).toMatchObject({ status: 400, code: 'OTP_INVALID' });
    const code = await client.sendOtp({ mobileNumber, purpose: 'delete_account' });
    await client.deleteAccount(code.otp!);
    expect(await client.tokens.get()).toBeNull();
    // The number is free again.
    const again = await client.signup({ mobileNumber });
    expect(again.user.id).not.toBe(exported.profile.id);
  });

  it('shares a chatroom: a copy anyone can read without signing in, listed, then revoked', async () => {
    const { client } = await signedIn();
    const room = await client.createChatroom({ title: 'Lisbon <b>trip</b>' });
    const { reply } = await client.sendMessage(room.id, 'Plan a day in Lisbon', { wait: 10 });
    expect(reply.status).toBe('completed');
    const share = await client.createShare(room.id);
    expect(share).toMatchObject({ chatroomId: room.id, title: 'Lisbon <b>trip</b>', messageCount: 2 });
    expect(share.url).toBe(`${stack.config.http.publicBaseUrl}/s/${share.id}`);

    // A client with no tokens at all reads it.
    const anonymous = createClient({ baseUrl, fetch: recording() });
    const read = await anonymous.getShare(share.id);
    expect(read).toEqual({
      title: 'Lisbon <b>trip</b>',
      messages: [
        { role: 'user', content: 'Plan a day in Lisbon', createdAt: expect.any(String) },
        { role: 'assistant', content: reply.content, createdAt: expect.any(String) },
      ],
      createdAt: share.createdAt,
    });
    expect((await client.listShares({ limit: 5 })).items.map((s) => s.id)).toEqual([share.id]);

    await client.deleteShare(share.id);
    expect(await failure(anonymous.getShare(share.id))).toMatchObject({ status: 404, code: 'SHARE_NOT_FOUND' });
    expect(await failure(client.deleteShare(share.id))).toMatchObject({ status: 404, code: 'SHARE_NOT_FOUND' });
    expect((await client.listShares()).items).toEqual([]);
  });

  it('called every operation of the contract (the Stripe webhook is called by Stripe)', () => {
    expect(uncalledOperations(sent)).toEqual([]);
  });
});
