import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import {
  buildBillingTestApp,
  expectProblem,
  fileUpload,
  pngFixture,
  post,
  signIn,
  stripeCalls,
  subscribeAndPay,
  subscriptionStatus,
  type BillingTestApp,
  type SignedIn,
} from '@gemini-chat/testkit';

// No worker runs here: these tests see what DELETE /user/me does at once (the job's part is tested in the worker).
let t: BillingTestApp;
beforeAll(async () => {
  t = await buildBillingTestApp();
});
afterAll(() => t.close());

const sendOtp = (mobileNumber: string, purpose?: string) => post(t.app, '/auth/send-otp', { mobileNumber, ...(purpose ? { purpose } : {}) });
async function deletionCode(user: SignedIn): Promise<string> {
  const res = await sendOtp(user.mobileNumber, 'delete_account');
  expect(res.statusCode).toBe(200);
  return res.json().otp;
}
const deleteAccount = (user: SignedIn, otp: string, app = t.app) => app.inject({ method: 'DELETE', url: '/user/me', headers: user.auth, payload: { otp } });
const me = (user: SignedIn, app = t.app) => app.inject({ url: '/user/me', headers: user.auth });
const stripeStatus = async (subscriptionId: string) =>
  (await new Stripe('sk_test_billing_tests', { ...t.fake.stripeConfig, maxNetworkRetries: 0 }).subscriptions.retrieve(subscriptionId)).status;
const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('DELETE /user/me refusals', () => {
  it('refuses a wrong code, counts the attempt and deletes nothing', async () => {
    const user = await signIn(t.app);
    const code = await deletionCode(user);
    const wrong = expectProblem(await deleteAccount(user, otherCode(code)), 400, 'OTP_INVALID');
    expect(wrong.attemptsRemaining).toBe(t.config.otp.maxAttempts - 1);
    expect((await me(user)).statusCode).toBe(200);
    // The right code still works after a wrong guess.
    expect((await deleteAccount(user, code)).statusCode).toBe(204);
  });

  it('does not take a login code, and a delete_account code signs nobody in', async () => {
    const user = await signIn(t.app);
    const login = (await sendOtp(user.mobileNumber)).json().otp as string;
    expectProblem(await deleteAccount(user, login), 400, 'OTP_INVALID');
    const code = await deletionCode(user);
    expectProblem(await post(t.app, '/auth/verify-otp', { mobileNumber: user.mobileNumber, otp: code }), 400, 'OTP_INVALID');
    expect((await me(user)).statusCode).toBe(200);
  });

  it('needs a code sent to the caller\'s own number', async () => {
    const [victim, attacker] = [await signIn(t.app), await signIn(t.app)];
    const attackersCode = await deletionCode(attacker);
    expectProblem(await deleteAccount(victim, attackersCode), 400, 'OTP_INVALID');
    expect((await me(victim)).statusCode).toBe(200);
    expect((await me(attacker)).statusCode).toBe(200);
  });

  it('sends a delete_account code only for a verified account', async () => {
    expectProblem(await sendOtp('+14155550199', 'delete_account'), 404, 'USER_NOT_FOUND');
    const mobileNumber = '+14155550198';
    expect((await post(t.app, '/auth/signup', { mobileNumber })).statusCode).toBe(201);
    expectProblem(await sendOtp(mobileNumber, 'delete_account'), 404, 'USER_NOT_FOUND');
    expectProblem(await sendOtp(mobileNumber, 'signup'), 400, 'VALIDATION_FAILED');
  });

  it('needs a bearer token and a well-formed code', async () => {
    const user = await signIn(t.app);
    expect((await t.app.inject({ method: 'DELETE', url: '/user/me', payload: { otp: '123456' } })).statusCode).toBe(401);
    expect((await deleteAccount(user, '12345')).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'DELETE', url: '/user/me', headers: user.auth, payload: { otp: '123456', userId: user.userId } })).statusCode).toBe(400);
  });
});

describe('DELETE /user/me', () => {
  it('cancels the subscription in Stripe at once, kills every token on every instance and frees the number', async () => {
    const user = await signIn(t.app, { name: 'Ada', password: 'correct horse battery' });
    const { subscriptionId } = await subscribeAndPay(t, user);
    expect((await subscriptionStatus(t, user)).tier).toBe('pro');
    const second = await signIn(t.app); // someone else, untouched
    // Another API instance that has this user's session cached already.
    const replica = await buildApp({ config: t.config, logger: false });
    try {
      expect((await me(user, replica)).statusCode).toBe(200);
      const pendingLogin = (await sendOtp(user.mobileNumber)).json().otp as string;

      expect((await deleteAccount(user, await deletionCode(user))).statusCode).toBe(204);

      expect(stripeCalls(t.fake, 'DELETE', `/v1/subscriptions/${subscriptionId}`)).toHaveLength(1);
      expect(await stripeStatus(subscriptionId)).toBe('canceled');
      expect((await me(user)).statusCode).toBe(401);
      expect((await me(user, replica)).statusCode).toBe(401);
      expectProblem(await post(t.app, '/auth/refresh', { refreshToken: user.refreshToken }), 401, 'REFRESH_TOKEN_INVALID');
      // The number is nobody's now: its codes died with the account and the password signs nobody in.
      expectProblem(await post(t.app, '/auth/verify-otp', { mobileNumber: user.mobileNumber, otp: pendingLogin }), 404, 'USER_NOT_FOUND');
      expectProblem(await post(t.app, '/auth/login', { mobileNumber: user.mobileNumber, password: 'correct horse battery' }), 401, 'INVALID_CREDENTIALS');
      const row = await t.db.selectFrom('users').selectAll().where('id', '=', user.userId).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ name: null, email: null, password_hash: null });
      expect(row.mobile_number).not.toContain(user.mobileNumber);
      expect(row.deleted_at).not.toBeNull();

      // The number signs up again at once, as a new user with nothing of the old one.
      const again = await post(t.app, '/auth/signup', { mobileNumber: user.mobileNumber });
      expect(again.statusCode).toBe(201);
      expectProblem(await post(t.app, '/auth/verify-otp', { mobileNumber: user.mobileNumber, otp: pendingLogin }), 400, 'OTP_INVALID');
      const verified = await post(t.app, '/auth/verify-otp', { mobileNumber: user.mobileNumber, otp: again.json().otpChallenge.otp });
      expect(verified.statusCode).toBe(200);
      const reborn = verified.json();
      expect(reborn.user.id).not.toBe(user.userId);
      expect(reborn.user).toMatchObject({ tier: 'basic', name: null, hasPassword: false });
      expect((await me(second)).statusCode).toBe(200);
    } finally {
      await replica.close();
    }
  });

  it('answers 503 and deletes nothing while Stripe is down; the same code works once it is back', async () => {
    const user = await signIn(t.app);
    const { subscriptionId } = await subscribeAndPay(t, user);
    const code = await deletionCode(user);
    t.fake.failApi({ method: 'DELETE', path: `/v1/subscriptions/${subscriptionId}`, status: 503, shouldRetry: false });
    const res = await deleteAccount(user, code);
    expect(res.statusCode).toBe(503);
    expect((await me(user)).statusCode).toBe(200);
    expect(await stripeStatus(subscriptionId)).toBe('active');
    expect((await deleteAccount(user, code)).statusCode).toBe(204);
    expect(await stripeStatus(subscriptionId)).toBe('canceled');
  });

  it('the same code cannot be replayed', async () => {
    const user = await signIn(t.app);
    const code = await deletionCode(user);
    const [a, b] = await Promise.all([deleteAccount(user, code), deleteAccount(user, code)]);
    const codes = [a.statusCode, b.statusCode].sort();
    // The loser finds the code consumed (400), the account gone (404) or its session revoked (401).
    expect(codes[0]).toBe(204);
    expect([400, 401, 404]).toContain(codes[1]);
  });
});

describe('what an account gave out dies with it', () => {
  it('its share links and API keys stop working the moment the deletion is accepted, before the job runs', async () => {
    const user = await signIn(t.app);
    const room = (await post(t.app, '/chatroom', { title: 'Shared' }, user.auth)).json().id as string;
    const sent = await post(t.app, `/chatroom/${room}/message`, { content: 'Share me' }, user.auth);
    expect(sent.statusCode).toBe(202);
    // No worker here: finish the reply as one would.
    await t.db.updateTable('message').set({ status: 'completed', content: 'Shared reply' }).where('id', '=', sent.json().reply.id).execute();
    const share = await post(t.app, `/chatroom/${room}/shares`, {}, user.auth);
    expect(share.statusCode).toBe(201);
    const key = (await post(t.app, '/user/api-keys', { name: 'script' }, user.auth)).json().key as string;
    const keyAuth = { authorization: `Bearer ${key}` };
    expect((await t.app.inject({ url: `/s/${share.json().id}` })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/chatroom', headers: keyAuth })).statusCode).toBe(200);

    expect((await deleteAccount(user, await deletionCode(user))).statusCode).toBe(204);
    expectProblem(await t.app.inject({ url: `/s/${share.json().id}` }), 404, 'SHARE_NOT_FOUND');
    expect((await t.app.inject({ url: '/chatroom', headers: keyAuth })).statusCode).toBe(401);
  });
});

describe('GET /user/me/export', () => {
  it('holds the profile, subscription, usage, every chatroom with every branch and all file metadata, and nothing of anyone else', async () => {
    const user = await signIn(t.app, { name: 'Grace', password: 'correct horse battery' });
    const other = await signIn(t.app);
    const upload = async (who: SignedIn, name: string) => {
      const body = fileUpload(pngFixture(), name);
      const res = await t.app.inject({ method: 'POST', url: '/files', headers: { ...who.auth, ...body.headers }, payload: body.payload });
      expect(res.statusCode).toBe(201);
      return res.json() as { id: string };
    };
    const kept = await upload(user, 'kept.png');
    const gone = await upload(user, 'gone.png');
    expect((await t.app.inject({ method: 'DELETE', url: `/files/${gone.id}`, headers: user.auth })).statusCode).toBe(204);
    const theirs = await upload(other, 'theirs.png');
    const room = (await t.app.inject({ method: 'POST', url: '/chatroom', headers: user.auth, payload: { title: 'Mine' } })).json();
    const theirRoom = (await t.app.inject({ method: 'POST', url: '/chatroom', headers: other.auth, payload: { title: 'Secret of theirs' } })).json();
    const sent = await t.app.inject({
      method: 'POST',
      url: `/chatroom/${room.id}/message`,
      headers: user.auth,
      payload: { content: 'first prompt', attachments: [kept.id] },
    });
    expect(sent.statusCode).toBe(202);
    // A second branch: another first prompt beside the first (as an edit of it makes).
    await t.db
      .insertInto('message')
      .values({ chatroom_id: room.id, user_id: user.userId, role: 'user', status: 'completed', content: 'edited prompt', parent_id: null })
      .execute();
    await t.db
      .insertInto('message')
      .values({ chatroom_id: theirRoom.id, user_id: other.userId, role: 'user', status: 'completed', content: 'their words', parent_id: null })
      .execute();

    const res = await t.app.inject({ url: '/user/me/export', headers: user.auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="gemini-chat-account-\d{4}-\d{2}-\d{2}\.json"$/);
    const doc = res.json();
    expect(doc).toMatchObject({ format: 'gemini-chat.account-export', version: 1 });
    expect(doc.profile).toMatchObject({ id: user.userId, mobileNumber: user.mobileNumber, name: 'Grace', hasPassword: true, tier: 'basic' });
    expect(JSON.stringify(doc.profile)).not.toMatch(/password_hash|argon/);
    expect(doc.subscription).toMatchObject({ tier: 'basic', status: 'none' });
    expect(doc.usage).toMatchObject({ used: 1 });
    expect(doc.chatrooms).toHaveLength(1);
    // Each chatroom is a chatroom export document, exactly as GET /chatroom/{id}/export writes it.
    const [exported] = doc.chatrooms;
    expect(exported).toEqual({ ...(await t.app.inject({ url: `/chatroom/${room.id}/export`, headers: user.auth })).json(), exportedAt: doc.exportedAt });
    expect(exported).toMatchObject({ format: 'gemini-chat.chatroom', version: 1, chatroom: { title: 'Mine' } });
    const roots = exported.messages.filter((m: { parentId: string | null }) => m.parentId === null);
    expect(roots.map((m: { content: string }) => m.content)).toEqual(['first prompt', 'edited prompt']);
    const prompt = exported.messages.find((m: { content: string }) => m.content === 'first prompt');
    expect(prompt.attachments).toEqual([
      { id: kept.id, name: 'kept.png', mimeType: 'image/png', sizeBytes: pngFixture().length, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), deleted: false },
    ]);
    // The queued reply is there too, under its prompt, and is the message the chatroom shows.
    const reply = exported.messages.find((m: { role: string }) => m.role === 'assistant');
    expect(reply).toMatchObject({ status: 'queued', parentId: prompt.id });
    expect(exported.chatroom.currentMessageId).toBe(reply.id);
    expect(doc.files.map((f: { id: string; deleted: boolean }) => [f.id, f.deleted])).toEqual([
      [kept.id, false],
      [gone.id, true],
    ]);
    expect(doc.files[0]).toEqual({
      id: kept.id,
      name: 'kept.png',
      mimeType: 'image/png',
      sizeBytes: pngFixture().length,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      createdAt: expect.any(String),
      deleted: false,
    });
    for (const foreign of [other.userId, other.mobileNumber, theirs.id, theirRoom.id, 'Secret of theirs', 'their words']) {
      expect(res.body).not.toContain(foreign);
    }
  });

  it('is refused once the account is deleted', async () => {
    const user = await signIn(t.app);
    expect((await deleteAccount(user, await deletionCode(user))).statusCode).toBe(204);
    expect((await t.app.inject({ url: '/user/me/export', headers: user.auth })).statusCode).toBe(401);
  });
});
