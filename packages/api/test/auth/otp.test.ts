import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, post, randomMobileNumber, type TestApp } from '@gemini-chat/testkit';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

async function signup(mobileNumber = randomMobileNumber()) {
  const res = await post(t.app, '/auth/signup', { mobileNumber });
  expect(res.statusCode).toBe(201);
  return { mobileNumber, otp: res.json().otpChallenge.otp as string };
}

describe('signup and OTP verification', () => {
  it('registers, returns a 6-digit code in response mode, and verifying it signs in and marks the number verified', async () => {
    const mobileNumber = randomMobileNumber();
    const res = await post(t.app, '/auth/signup', { mobileNumber, name: 'Ada', email: 'Ada@Example.com' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.user).toMatchObject({ mobileNumber, name: 'Ada', email: 'ada@example.com', tier: 'basic', hasPassword: false, mobileVerified: false });
    expect(body.otpChallenge.otp).toMatch(/^\d{6}$/);
    expect(Date.parse(body.otpChallenge.expiresAt) - Date.now()).toBeGreaterThan(290_000);

    const verified = await post(t.app, '/auth/verify-otp', { mobileNumber, otp: body.otpChallenge.otp });
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { id: body.user.id, mobileVerified: true } });
  });

  it('normalises numbers to E.164 and rejects a duplicate as 409 MOBILE_NUMBER_TAKEN', async () => {
    const res = await post(t.app, '/auth/signup', { mobileNumber: '+1 (415) 555-0123' });
    expect(res.statusCode).toBe(201);
    expect(res.json().user.mobileNumber).toBe('+14155550123');
    expectProblem(await post(t.app, '/auth/signup', { mobileNumber: '+14155550123' }), 409, 'MOBILE_NUMBER_TAKEN');
  });

  it('rejects an invalid phone number with a field error', async () => {
    const body = expectProblem(await post(t.app, '/auth/signup', { mobileNumber: '12345' }), 400, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([expect.objectContaining({ in: 'body', field: 'mobileNumber' })]);
  });

  it('is single use: the same code cannot sign in twice', async () => {
    const { mobileNumber, otp } = await signup();
    expect((await post(t.app, '/auth/verify-otp', { mobileNumber, otp })).statusCode).toBe(200);
    expectProblem(await post(t.app, '/auth/verify-otp', { mobileNumber, otp }), 400, 'OTP_INVALID');
  });

  it('counts wrong tries, then locks the code after 5 (even the right code is refused)', async () => {
    const { mobileNumber, otp } = await signup();
    const wrong = otp === '000000' ? '111111' : '000000';
    for (let left = 4; left >= 0; left--) {
      const body = expectProblem(await post(t.app, '/auth/verify-otp', { mobileNumber, otp: wrong }), 400, 'OTP_INVALID');
      expect(body.attemptsRemaining).toBe(left);
    }
    const locked = await post(t.app, '/auth/verify-otp', { mobileNumber, otp });
    expectProblem(locked, 429, 'OTP_LOCKED');
    expect(locked.headers['retry-after']).toBeDefined();
  });

  it('counts concurrent wrong guesses exactly: 20 parallel guesses never get more than 5 tries', async () => {
    const { mobileNumber, otp } = await signup();
    const wrong = otp === '000000' ? '111111' : '000000';
    const results = await Promise.all(Array.from({ length: 20 }, () => post(t.app, '/auth/verify-otp', { mobileNumber, otp: wrong })));
    expect(results.filter((r) => r.json().code === 'OTP_INVALID')).toHaveLength(5);
    expect(results.filter((r) => r.json().code === 'OTP_LOCKED')).toHaveLength(15);
  });

  it('expires after its lifetime with 400 OTP_EXPIRED', async () => {
    const { mobileNumber, otp } = await signup();
    await sql`update otp_challenge set expires_at = now() - interval '1 second' where mobile_number = ${mobileNumber}`.execute(t.db);
    expectProblem(await post(t.app, '/auth/verify-otp', { mobileNumber, otp }), 400, 'OTP_EXPIRED');
  });

  it('scopes codes to their purpose: a password-reset code does not sign in, a login code does not reset', async () => {
    const { mobileNumber, otp } = await signup();
    await post(t.app, '/auth/verify-otp', { mobileNumber, otp });
    const reset = await post(t.app, '/auth/forgot-password', { mobileNumber });
    expect(reset.statusCode).toBe(200);
    expectProblem(await post(t.app, '/auth/verify-otp', { mobileNumber, otp: reset.json().otp }), 400, 'OTP_INVALID');

    const login = await post(t.app, '/auth/send-otp', { mobileNumber });
    expectProblem(
      await post(t.app, '/auth/reset-password', { mobileNumber, otp: login.json().otp, newPassword: 'a-new-password' }),
      400,
      'OTP_INVALID',
    );
    // Each code still works for its own purpose.
    expect((await post(t.app, '/auth/reset-password', { mobileNumber, otp: reset.json().otp, newPassword: 'a-new-password' })).statusCode).toBe(204);
    expect((await post(t.app, '/auth/verify-otp', { mobileNumber, otp: login.json().otp })).statusCode).toBe(200);
  });

  it('a new code replaces the old one: only the newest works', async () => {
    const { mobileNumber, otp: first } = await signup();
    const second = (await post(t.app, '/auth/send-otp', { mobileNumber })).json().otp as string;
    if (first !== second) expectProblem(await post(t.app, '/auth/verify-otp', { mobileNumber, otp: first }), 400, 'OTP_INVALID');
    expect((await post(t.app, '/auth/verify-otp', { mobileNumber, otp: second })).statusCode).toBe(200);
  });

  it('send-otp for an unknown number is 404 USER_NOT_FOUND', async () => {
    expectProblem(await post(t.app, '/auth/send-otp', { mobileNumber: randomMobileNumber() }), 404, 'USER_NOT_FOUND');
  });

  it('stores only a keyed hash of the code', async () => {
    const { mobileNumber, otp } = await signup();
    const rows = await t.db.selectFrom('otp_challenge').selectAll().where('mobile_number', '=', mobileNumber).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.code_hash).not.toContain(otp);
  });
});

describe('OTP send limits', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await buildTestApp({ OTP_RESEND_COOLDOWN_SECONDS: '30', OTP_HOURLY_SEND_LIMIT: '3' });
  });
  afterAll(() => limited.close());

  it('enforces the resend cooldown per number and purpose with Retry-After', async () => {
    const mobileNumber = randomMobileNumber();
    expect((await post(limited.app, '/auth/signup', { mobileNumber })).statusCode).toBe(201);
    expect((await post(limited.app, '/auth/send-otp', { mobileNumber })).statusCode).toBe(200); // other purpose: allowed
    const again = await post(limited.app, '/auth/send-otp', { mobileNumber });
    const body = expectProblem(again, 429, 'OTP_RESEND_TOO_SOON');
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(25);
    expect(body.retryAfterSeconds).toBe(Number(again.headers['retry-after']));
  });

  it('caps sends per number per hour across purposes', async () => {
    const mobileNumber = randomMobileNumber();
    await post(limited.app, '/auth/signup', { mobileNumber }); // 1 (signup)
    await post(limited.app, '/auth/send-otp', { mobileNumber }); // 2 (login)
    expect((await post(limited.app, '/auth/forgot-password', { mobileNumber })).statusCode).toBe(200); // 3 (reset)
    // Let the login cooldown pass so only the hourly cap can refuse.
    await sql`update otp_challenge set created_at = now() - interval '1 minute' where mobile_number = ${mobileNumber}`.execute(limited.db);
    const fourth = await post(limited.app, '/auth/send-otp', { mobileNumber });
    expectProblem(fourth, 429, 'OTP_SEND_LIMIT');
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(3000);
  });
});
