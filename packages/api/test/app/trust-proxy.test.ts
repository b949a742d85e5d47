import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, randomMobileNumber, type TestApp } from '@gemini-chat/testkit';

// The per-IP auth limit must count the address our own proxy saw, whatever a client writes in X-Forwarded-For.
const PER_IP = 3;
const PROXY = '10.1.2.3';

async function attempts(t: TestApp, count: number, forwardedFor: (i: number) => string, remoteAddress = PROXY) {
  const answers = [];
  for (let i = 0; i < count; i++) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { mobileNumber: randomMobileNumber(), password: 'password1' },
      remoteAddress,
      headers: { 'x-forwarded-for': forwardedFor(i) },
    });
    answers.push(res.json().code as string);
  }
  return answers;
}

describe.each([
  ['a CIDR', '10.0.0.0/8'],
  ['an address list', '192.0.2.1, 10.1.2.3'],
])('TRUST_PROXY as %s', (_name, trustProxy) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ TRUST_PROXY: trustProxy, AUTH_RATE_LIMIT_PER_IP: String(PER_IP) });
  });
  afterAll(() => t.close());

  it('a client behind the proxy cannot escape the per-IP limit by writing its own X-Forwarded-For', async () => {
    // What arrives: "<whatever the client wrote>, <the client's real address appended by our proxy>".
    const codes = await attempts(t, PER_IP + 3, (i) => `198.51.100.${i}, 203.0.113.7`);
    expect(codes.slice(0, PER_IP).every((code) => code === 'INVALID_CREDENTIALS')).toBe(true);
    expect(codes.slice(PER_IP)).toEqual(['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
  });

  it('two clients behind the same proxy keep separate budgets', async () => {
    const codes = await attempts(t, PER_IP, () => '203.0.113.8');
    expect(codes).toEqual(Array(PER_IP).fill('INVALID_CREDENTIALS'));
  });

  it('a client connecting directly, not through the proxy, is limited by its own address', async () => {
    const direct = '192.0.2.44';
    const codes = await attempts(t, PER_IP + 2, (i) => `198.51.100.${i}`, direct);
    expect(codes.slice(PER_IP)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
  });
});
