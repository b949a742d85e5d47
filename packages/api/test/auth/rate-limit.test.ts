import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, randomMobileNumber, type TestApp } from '@gemini-chat/testkit';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ AUTH_RATE_LIMIT_PER_IP: '5', AUTH_RATE_LIMIT_PER_NUMBER: '3' });
});
afterAll(() => t.close());

const login = (mobileNumber: string, ip: string) =>
  t.app.inject({ method: 'POST', url: '/auth/login', payload: { mobileNumber, password: 'guess-guess' }, remoteAddress: ip });

describe('auth brute-force limits (Redis-backed, shared by every instance)', () => {
  it('limits one IP across numbers and routes', async () => {
    const ip = '203.0.113.7';
    for (let i = 0; i < 5; i++) {
      const res = await login(randomMobileNumber(), ip);
      expect(res.statusCode).toBe(401);
      expect(res.headers['ratelimit-remaining']).toBeDefined();
    }
    const blocked = await t.app.inject({ method: 'POST', url: '/auth/send-otp', payload: { mobileNumber: randomMobileNumber() }, remoteAddress: ip });
    expectProblem(blocked, 429, 'RATE_LIMITED');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is unaffected.
    expect((await login(randomMobileNumber(), '203.0.113.8')).statusCode).toBe(401);
  });

  it('limits one number across IPs, so guessing from many addresses does not help', async () => {
    const target = randomMobileNumber();
    for (let i = 0; i < 3; i++) expect((await login(target, `198.51.100.${i + 1}`)).statusCode).toBe(401);
    expectProblem(await login(target, '198.51.100.99'), 429, 'RATE_LIMITED');
    // The same number written differently is the same number.
    const spaced = `${target.slice(0, 2)} ${target.slice(2, 5)} ${target.slice(5)}`;
    expectProblem(await login(spaced, '198.51.100.100'), 429, 'RATE_LIMITED');
  });
});
