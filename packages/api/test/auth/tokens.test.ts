import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, craftJwt, expectProblem, fromTokens, post, randomMobileNumber, signIn, type TestApp } from '@gemini-chat/testkit';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

const me = (authorization: string) => t.app.inject({ url: '/user/me', headers: { authorization } });

describe('access tokens', () => {
  it('accepts the issued token', async () => {
    const user = await signIn(t.app);
    expect((await me(user.auth.authorization)).statusCode).toBe(200);
  });

  it('401 for a missing, malformed, expired, wrongly signed, unsigned or wrong-audience token', async () => {
    const user = await signIn(t.app);
    const { jwtSecret, issuer, audience } = t.config.auth;
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: user.userId, sid: JSON.parse(Buffer.from(user.accessToken.split('.')[1]!, 'base64url').toString()).sid, iss: issuer, aud: audience };

    expectProblem(await t.app.inject({ url: '/user/me' }), 401, 'UNAUTHORIZED');
    expectProblem(await me('Bearer not-a-jwt'), 401, 'UNAUTHORIZED');
    expectProblem(await me(`Basic ${user.accessToken}`), 401, 'UNAUTHORIZED');
    expectProblem(await me(`Bearer ${craftJwt({ ...claims, iat: now - 100, exp: now - 10 }, jwtSecret)}`), 401, 'TOKEN_EXPIRED');
    expectProblem(await me(`Bearer ${craftJwt({ ...claims, exp: now + 60 }, 'some-other-secret-of-enough-length-000000')}`), 401, 'UNAUTHORIZED');
    expectProblem(await me(`Bearer ${craftJwt({ ...claims, exp: now + 60 }, '', 'none')}`), 401, 'UNAUTHORIZED');
    expectProblem(await me(`Bearer ${craftJwt({ ...claims, aud: 'someone-else', exp: now + 60 }, jwtSecret)}`), 401, 'UNAUTHORIZED');
    expectProblem(await me(`Bearer ${craftJwt({ ...claims, iss: 'someone-else', exp: now + 60 }, jwtSecret)}`), 401, 'UNAUTHORIZED');
    // Correctly signed but naming a session that does not exist.
    expectProblem(await me(`Bearer ${craftJwt({ ...claims, sid: randomUUID(), exp: now + 60 }, jwtSecret)}`), 401, 'SESSION_REVOKED');
    // The control: the same crafting with the right secret and claims is accepted.
    expect((await me(`Bearer ${craftJwt({ ...claims, exp: now + 60 }, jwtSecret)}`)).statusCode).toBe(200);
  });
});

describe('verified tokens remembered by the process', () => {
  it('a token accepted once is refused with TOKEN_EXPIRED once its exp passes', async () => {
    const user = await signIn(t.app);
    const { jwtSecret, issuer, audience } = t.config.auth;
    const sid = JSON.parse(Buffer.from(user.accessToken.split('.')[1]!, 'base64url').toString()).sid;
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = `Bearer ${craftJwt({ sub: user.userId, sid, iss: issuer, aud: audience, iat: exp - 60, exp }, jwtSecret)}`;
    expect((await me(token)).statusCode).toBe(200);
    expect((await me(token)).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    expectProblem(await me(token), 401, 'TOKEN_EXPIRED');
  });

  it('a token differing from an accepted one by a single character is checked, and refused', async () => {
    const user = await signIn(t.app);
    expect((await me(user.auth.authorization)).statusCode).toBe(200);
    const tampered = user.auth.authorization.slice(0, -2) + (user.auth.authorization.endsWith('AA') ? 'BB' : 'AA');
    expectProblem(await me(tampered), 401, 'UNAUTHORIZED');
  });
});

describe('refresh tokens', () => {
  it('rotate: each refresh returns a new pair, and the new pair works', async () => {
    const user = await signIn(t.app);
    const res = await post(t.app, '/auth/refresh', { refreshToken: user.refreshToken });
    expect(res.statusCode).toBe(200);
    const next = res.json();
    expect(next.refreshToken).not.toBe(user.refreshToken);
    expect((await me(`Bearer ${next.accessToken}`)).statusCode).toBe(200);
    expect((await post(t.app, '/auth/refresh', { refreshToken: next.refreshToken })).statusCode).toBe(200);
  });

  it('reuse of a rotated refresh token revokes the whole session family', async () => {
    const user = await signIn(t.app);
    const rotated = (await post(t.app, '/auth/refresh', { refreshToken: user.refreshToken })).json();

    expectProblem(await post(t.app, '/auth/refresh', { refreshToken: user.refreshToken }), 401, 'REFRESH_TOKEN_REUSED');
    // The thief's and the owner's newer tokens are dead too.
    expectProblem(await post(t.app, '/auth/refresh', { refreshToken: rotated.refreshToken }), 401, 'REFRESH_TOKEN_INVALID');
    expectProblem(await me(`Bearer ${rotated.accessToken}`), 401, 'SESSION_REVOKED');
  });

  it('two concurrent refreshes with one token: exactly one succeeds', async () => {
    const user = await signIn(t.app);
    const results = await Promise.all([1, 2].map(() => post(t.app, '/auth/refresh', { refreshToken: user.refreshToken })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401]);
  });

  it('an unknown refresh token is 401 REFRESH_TOKEN_INVALID', async () => {
    expectProblem(await post(t.app, '/auth/refresh', { refreshToken: 'nope' }), 401, 'REFRESH_TOKEN_INVALID');
  });

  it('is stored hashed, never in clear', async () => {
    const user = await signIn(t.app);
    const rows = await t.db.selectFrom('refresh_token').select('token_hash').execute();
    expect(rows.some((r) => r.token_hash === user.refreshToken)).toBe(false);
  });

  it('logout revokes the session at once (access token included) and is idempotent', async () => {
    const user = await signIn(t.app);
    expect((await post(t.app, '/auth/logout', { refreshToken: user.refreshToken })).statusCode).toBe(204);
    expectProblem(await me(user.auth.authorization), 401, 'SESSION_REVOKED');
    expectProblem(await post(t.app, '/auth/refresh', { refreshToken: user.refreshToken }), 401, 'REFRESH_TOKEN_INVALID');
    expect((await post(t.app, '/auth/logout', { refreshToken: user.refreshToken })).statusCode).toBe(204);
  });
});

describe('passwords', () => {
  it('login works once the number is verified, with one answer for unknown number and wrong password', async () => {
    const user = await signIn(t.app, { password: 'correct horse battery' });
    const ok = await post(t.app, '/auth/login', { mobileNumber: user.mobileNumber, password: 'correct horse battery' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().user.hasPassword).toBe(true);
    expectProblem(await post(t.app, '/auth/login', { mobileNumber: user.mobileNumber, password: 'wrong password!' }), 401, 'INVALID_CREDENTIALS');
    expectProblem(await post(t.app, '/auth/login', { mobileNumber: randomMobileNumber(), password: 'whatever123' }), 401, 'INVALID_CREDENTIALS');
  });

  it('an unverified number cannot log in with its password, and is not told why', async () => {
    const mobileNumber = randomMobileNumber();
    await post(t.app, '/auth/signup', { mobileNumber, password: 'correct horse battery' });
    expectProblem(await post(t.app, '/auth/login', { mobileNumber, password: 'correct horse battery' }), 401, 'INVALID_CREDENTIALS');
  });

  it('change-password requires the current one, revokes every session and returns working tokens', async () => {
    const user = await signIn(t.app, { password: 'first password' });
    const other = fromTokens(user.mobileNumber, await post(t.app, '/auth/login', { mobileNumber: user.mobileNumber, password: 'first password' }));

    const change = (body: object) => post(t.app, '/auth/change-password', body, user.auth);
    expectProblem(await change({ newPassword: 'second password' }), 400, 'CURRENT_PASSWORD_REQUIRED');
    expectProblem(await change({ currentPassword: 'nope nope', newPassword: 'second password' }), 400, 'CURRENT_PASSWORD_INCORRECT');
    const res = await change({ currentPassword: 'first password', newPassword: 'second password' });
    expect(res.statusCode).toBe(200);

    expectProblem(await me(user.auth.authorization), 401, 'SESSION_REVOKED');
    expectProblem(await me(other.auth.authorization), 401, 'SESSION_REVOKED');
    expectProblem(await post(t.app, '/auth/refresh', { refreshToken: other.refreshToken }), 401, 'REFRESH_TOKEN_INVALID');
    expect((await me(`Bearer ${res.json().accessToken}`)).statusCode).toBe(200);
    expect((await post(t.app, '/auth/login', { mobileNumber: user.mobileNumber, password: 'second password' })).statusCode).toBe(200);
  });

  it('an account without a password can set one without currentPassword', async () => {
    const user = await signIn(t.app);
    const res = await post(t.app, '/auth/change-password', { newPassword: 'brand new password' }, user.auth);
    expect(res.statusCode).toBe(200);
    expect(res.json().user.hasPassword).toBe(true);
  });

  it('reset-password with a reset OTP sets the password and revokes every session', async () => {
    const user = await signIn(t.app, { password: 'forgotten one' });
    const otp = (await post(t.app, '/auth/forgot-password', { mobileNumber: user.mobileNumber })).json().otp;
    const res = await post(t.app, '/auth/reset-password', { mobileNumber: user.mobileNumber, otp, newPassword: 'remembered one' });
    expect(res.statusCode).toBe(204);
    expectProblem(await me(user.auth.authorization), 401, 'SESSION_REVOKED');
    expectProblem(await post(t.app, '/auth/refresh', { refreshToken: user.refreshToken }), 401, 'REFRESH_TOKEN_INVALID');
    expectProblem(await post(t.app, '/auth/login', { mobileNumber: user.mobileNumber, password: 'forgotten one' }), 401, 'INVALID_CREDENTIALS');
    expect((await post(t.app, '/auth/login', { mobileNumber: user.mobileNumber, password: 'remembered one' })).statusCode).toBe(200);
  });

  it('stores passwords as argon2id hashes', async () => {
    const user = await signIn(t.app, { password: 'hash me please' });
    const row = await t.db.selectFrom('users').select('password_hash').where('id', '=', user.userId).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
  });
});
