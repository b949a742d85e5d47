import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, signIn, type TestApp } from '@gemini-chat/testkit';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ QUOTA_BASIC_DAILY: '5' });
});
afterAll(() => t.close());

describe('GET /user/me', () => {
  it('returns the user and today\'s usage, and never internals', async () => {
    const user = await signIn(t.app, { name: 'Grace', password: 'secret password' });
    const res = await t.app.inject({ url: '/user/me', headers: user.auth });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    expect(body).toEqual({
      id: user.userId,
      mobileNumber: user.mobileNumber,
      mobileVerified: true,
      name: 'Grace',
      email: null,
      tier: 'basic',
      hasPassword: true,
      createdAt: expect.any(String),
      usage: { used: 0, limit: 5, resetsAt: midnight.toISOString(), inputTokens: 0, outputTokens: 0 },
    });
    expect(res.body).not.toContain('argon2');
  });
});

describe('PATCH /user/me', () => {
  it('updates name and email, null clears, bad email is a field error', async () => {
    const user = await signIn(t.app);
    const patch = (payload: object) => t.app.inject({ method: 'PATCH', url: '/user/me', payload, headers: user.auth });
    expect((await patch({ name: 'Linus', email: 'Linus@Example.org' })).json()).toMatchObject({ name: 'Linus', email: 'linus@example.org' });
    expect((await patch({ email: null })).json()).toMatchObject({ name: 'Linus', email: null });
    const bad = expectProblem(await patch({ email: 'nope' }), 400, 'VALIDATION_FAILED');
    expect(bad.errors[0]).toMatchObject({ in: 'body', field: 'email' });
    expectProblem(await patch({ tier: 'pro' }), 400, 'VALIDATION_FAILED');
    expect((await t.app.inject({ url: '/user/me', headers: user.auth })).json().tier).toBe('basic');
  });
});
