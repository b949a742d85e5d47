import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, fromTokens, post, randomMobileNumber, type TestApp } from '@gemini-chat/testkit';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

const me = (authorization: string) => t.app.inject({ url: '/user/me', headers: { authorization } });

const attacker = { name: 'Mallory', email: 'mallory@example.com', password: 'attacker password' };

/** Someone who does not own `mobileNumber` registers it with details of their own. */
async function squat(mobileNumber: string) {
  const res = await post(t.app, '/auth/signup', { mobileNumber, ...attacker });
  expect(res.statusCode).toBe(201);
  return res.json().otpChallenge.otp as string;
}

/** The owner of the number signs in the only way left to them: a login OTP. */
async function ownerSignsInByOtp(mobileNumber: string) {
  const sent = await post(t.app, '/auth/send-otp', { mobileNumber });
  expect(sent.statusCode).toBe(200);
  const verified = await post(t.app, '/auth/verify-otp', { mobileNumber, otp: sent.json().otp });
  expect(verified.statusCode).toBe(200);
  return verified;
}

describe('details given at signup survive only if the signup code proved them', () => {
  it('a stranger who signed up the number first cannot log in with their password once the owner signs in by OTP', async () => {
    const mobileNumber = randomMobileNumber();
    await squat(mobileNumber);
    expectProblem(await post(t.app, '/auth/signup', { mobileNumber, name: 'Owner' }), 409, 'MOBILE_NUMBER_TAKEN');

    const verified = await ownerSignsInByOtp(mobileNumber);

    expectProblem(await post(t.app, '/auth/login', { mobileNumber, password: attacker.password }), 401, 'INVALID_CREDENTIALS');
    const profile = await me(fromTokens(mobileNumber, verified).auth.authorization);
    expect(profile.statusCode).toBe(200);
    expect(profile.json()).toMatchObject({ mobileNumber, mobileVerified: true, name: null, email: null, hasPassword: false });
    expect(verified.json().user).toMatchObject({ mobileVerified: true, name: null, email: null, hasPassword: false });
  });

  it('the stale signup code, verified after the owner signed in, does not bring the stranger\'s details back', async () => {
    const mobileNumber = randomMobileNumber();
    const signupCode = await squat(mobileNumber);
    await ownerSignsInByOtp(mobileNumber);

    const late = await post(t.app, '/auth/verify-otp', { mobileNumber, otp: signupCode });
    expect(late.statusCode).toBe(200);
    expect(late.json().user).toMatchObject({ name: null, email: null, hasPassword: false });
    expectProblem(await post(t.app, '/auth/login', { mobileNumber, password: attacker.password }), 401, 'INVALID_CREDENTIALS');
  });

  it('a password reset on an unverified account keeps the new password only, not the stranger\'s profile', async () => {
    const mobileNumber = randomMobileNumber();
    await squat(mobileNumber);

    const reset = await post(t.app, '/auth/forgot-password', { mobileNumber });
    expect(reset.statusCode).toBe(200);
    const done = await post(t.app, '/auth/reset-password', { mobileNumber, otp: reset.json().otp, newPassword: 'owner password' });
    expect(done.statusCode).toBe(204);

    expectProblem(await post(t.app, '/auth/login', { mobileNumber, password: attacker.password }), 401, 'INVALID_CREDENTIALS');
    const login = await post(t.app, '/auth/login', { mobileNumber, password: 'owner password' });
    expect(login.statusCode).toBe(200);
    expect(login.json().user).toMatchObject({ mobileVerified: true, name: null, email: null, hasPassword: true });
  });

  it('the signer-up who verifies their own signup code keeps their name, email and password', async () => {
    const mobileNumber = randomMobileNumber();
    const signup = await post(t.app, '/auth/signup', { mobileNumber, name: 'Ada', email: 'Ada@Example.com', password: 'ada password' });
    expect(signup.statusCode).toBe(201);

    const verified = await post(t.app, '/auth/verify-otp', { mobileNumber, otp: signup.json().otpChallenge.otp });
    expect(verified.statusCode).toBe(200);
    expect(verified.json().user).toMatchObject({ mobileVerified: true, name: 'Ada', email: 'ada@example.com', hasPassword: true });

    const login = await post(t.app, '/auth/login', { mobileNumber, password: 'ada password' });
    expect(login.statusCode).toBe(200);
    const profile = await me(fromTokens(mobileNumber, login).auth.authorization);
    expect(profile.json()).toMatchObject({ name: 'Ada', email: 'ada@example.com', hasPassword: true });
  });

  it('a second signup of an unverified number is refused and changes nothing the first signer-up entered', async () => {
    const mobileNumber = randomMobileNumber();
    const first = await post(t.app, '/auth/signup', { mobileNumber, name: 'Ada', password: 'ada password' });
    expect(first.statusCode).toBe(201);
    expectProblem(await post(t.app, '/auth/signup', { mobileNumber, ...attacker }), 409, 'MOBILE_NUMBER_TAKEN');

    const verified = await post(t.app, '/auth/verify-otp', { mobileNumber, otp: first.json().otpChallenge.otp });
    expect(verified.statusCode).toBe(200);
    expect(verified.json().user).toMatchObject({ name: 'Ada', email: null, hasPassword: true });
    expectProblem(await post(t.app, '/auth/login', { mobileNumber, password: attacker.password }), 401, 'INVALID_CREDENTIALS');
    expect((await post(t.app, '/auth/login', { mobileNumber, password: 'ada password' })).statusCode).toBe(200);
  });
});

describe('password login on an unverified account', () => {
  it('fails exactly like a wrong password or an unknown number, even with the password given at signup', async () => {
    const mobileNumber = randomMobileNumber();
    await squat(mobileNumber);

    const unverified = expectProblem(await post(t.app, '/auth/login', { mobileNumber, password: attacker.password }), 401, 'INVALID_CREDENTIALS');
    const wrong = expectProblem(await post(t.app, '/auth/login', { mobileNumber, password: 'not the password' }), 401, 'INVALID_CREDENTIALS');
    const unknown = expectProblem(
      await post(t.app, '/auth/login', { mobileNumber: randomMobileNumber(), password: attacker.password }),
      401,
      'INVALID_CREDENTIALS',
    );
    const { requestId: _a, ...a } = unverified;
    const { requestId: _b, ...b } = wrong;
    const { requestId: _c, ...c } = unknown;
    expect(a).toEqual(b);
    expect(a).toEqual(c);
  });
});

describe('signup and its code stand or fall together', () => {
  let capped: TestApp;
  beforeAll(async () => {
    capped = await buildTestApp({ OTP_HOURLY_SEND_LIMIT: '1' });
  });
  afterAll(() => capped.close());

  it('a signup whose code cannot be sent leaves no account behind, so the signer-up can simply try again later', async () => {
    const mobileNumber = randomMobileNumber();
    // This hour's only send for the number is already spent (a client cannot arrange that for a new number).
    await capped.db.insertInto('otp_send').values({ mobile_number: mobileNumber, purpose: 'login' }).execute();

    expectProblem(await post(capped.app, '/auth/signup', { mobileNumber, ...attacker }), 429, 'OTP_SEND_LIMIT');
    expectProblem(await post(capped.app, '/auth/send-otp', { mobileNumber }), 404, 'USER_NOT_FOUND');

    await capped.db.deleteFrom('otp_send').where('mobile_number', '=', mobileNumber).execute();
    const retry = await post(capped.app, '/auth/signup', { mobileNumber, name: 'Ada' });
    expect(retry.statusCode).toBe(201);
    expect(retry.json().user).toMatchObject({ name: 'Ada', email: null, hasPassword: false });
  });
});
