// Abuse: brute force against OTP codes and passwords, from one address and from many, in parallel; and bodies
// and prompts over the limits. The app is built with small limits: 5 auth requests per IP per minute, 4 per
// mobile number per 15 minutes, 16 kB bodies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, post, randomMobileNumber, signIn, type TestApp } from '@gemini-chat/testkit';

const PER_IP = 5;
const PER_NUMBER = 4;
const BODY_LIMIT = 16_384;

let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await buildTestApp({
    AUTH_RATE_LIMIT_PER_IP: String(PER_IP),
    AUTH_RATE_LIMIT_PER_NUMBER: String(PER_NUMBER),
    OTP_MAX_ATTEMPTS: '5',
    BODY_LIMIT_BYTES: String(BODY_LIMIT),
    QUOTA_BASIC_DAILY: '10',
  });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => t?.close());

let ipSeq = 0;
/** A fresh documentation-range address per call (so only the per-number limit can stop a request). */
const freshIp = () => `198.18.${Math.floor(++ipSeq / 250)}.${(ipSeq % 250) + 1}`;

/** Signs a user up from an address of its own: one auth request on the number. Returns the number and its code. */
async function victim(): Promise<{ mobileNumber: string; otp: string }> {
  const mobileNumber = randomMobileNumber();
  const res = await t.app.inject({ method: 'POST', url: '/auth/signup', payload: { mobileNumber }, remoteAddress: freshIp() });
  expect(res.statusCode).toBe(201);
  return { mobileNumber, otp: res.json().otpChallenge.otp as string };
}

const wrongCode = (otp: string, i: number) => String((Number(otp) + 1 + i) % 1_000_000).padStart(6, '0');

describe('OTP brute force', () => {
  it('30 parallel guesses at one number from 30 addresses: the per-number limit lets at most 3 through, and then not even the right code', async () => {
    const { mobileNumber, otp } = await victim(); // 1 of the 4 requests the number may take
    const guesses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        t.app.inject({ method: 'POST', url: '/auth/verify-otp', payload: { mobileNumber, otp: wrongCode(otp, i) }, remoteAddress: freshIp() }),
      ),
    );
    const codes = guesses.map((g) => g.json().code as string);
    const through = codes.filter((c) => c !== 'RATE_LIMITED');
    expect(through.length).toBeLessThanOrEqual(PER_NUMBER - 1);
    expect(through.every((c) => c === 'OTP_INVALID')).toBe(true);
    for (const g of guesses.filter((g) => g.json().code === 'RATE_LIMITED')) {
      expectProblem(g, 429, 'RATE_LIMITED');
      expect(Number(g.headers['retry-after'])).toBeGreaterThan(0);
    }
    // The code itself counted only the guesses that got through.
    const challenge = await t.db.selectFrom('otp_challenge').select(['attempts', 'consumed_at']).where('mobile_number', '=', mobileNumber).executeTakeFirstOrThrow();
    expect(challenge.attempts).toBe(through.length);
    expect(challenge.consumed_at).toBeNull();
    // The attacker cannot cash in a lucky guess: the right code is refused too while the number is limited.
    expectProblem(await post(t.app, '/auth/verify-otp', { mobileNumber, otp }), 429, 'RATE_LIMITED');
  });

  it('the same number written differently shares one budget (no bypass by formatting)', async () => {
    const { mobileNumber, otp } = await victim();
    const national = mobileNumber.slice(2); // +1 4155550123 -> 4155550123
    // The exotic spellings go first: they are read as the victim's number (their guesses count on its code)...
    const spellings = [
      `+${[...`1${national}`].map((d) => String.fromCharCode(0xff10 + Number(d))).join('')}`, // full-width digits
      `${mobileNumber};ext=1`,
      `+1 (${national.slice(0, 3)}) ${national.slice(3, 6)}-${national.slice(6)}`,
      `+1-${national.slice(0, 3)}-${national.slice(3, 6)}-${national.slice(6)}`,
      `+1.${national.slice(0, 3)}.${national.slice(3, 6)}.${national.slice(6)}`,
      ` ${mobileNumber} `,
    ];
    const codes: string[] = [];
    for (const [i, spelling] of spellings.entries()) {
      const res = await t.app.inject({ method: 'POST', url: '/auth/verify-otp', payload: { mobileNumber: spelling, otp: wrongCode(otp, i) }, remoteAddress: freshIp() });
      codes.push(res.json().code as string);
    }
    // ...and every spelling draws on the same budget: 3 guesses, then the limit.
    expect(codes).toEqual(['OTP_INVALID', 'OTP_INVALID', 'OTP_INVALID', 'RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    const challenge = await t.db.selectFrom('otp_challenge').select('attempts').where('mobile_number', '=', mobileNumber).executeTakeFirstOrThrow();
    expect(challenge.attempts).toBe(3);
  });
});

describe('password brute force', () => {
  it('30 parallel wrong passwords for one account from 30 addresses: at most 3 are even checked, the right one is then refused', async () => {
    const user = await signIn(t.app, { password: 'correct horse battery' }); // signup + verify: 2 requests on the number
    const guesses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        t.app.inject({ method: 'POST', url: '/auth/login', payload: { mobileNumber: user.mobileNumber, password: `guess number ${i}` }, remoteAddress: freshIp() }),
      ),
    );
    const through = guesses.filter((g) => g.json().code !== 'RATE_LIMITED');
    expect(through.length).toBeLessThanOrEqual(PER_NUMBER - 2);
    expect(through.every((g) => g.json().code === 'INVALID_CREDENTIALS')).toBe(true);
    expectProblem(
      await t.app.inject({ method: 'POST', url: '/auth/login', payload: { mobileNumber: user.mobileNumber, password: 'correct horse battery' }, remoteAddress: freshIp() }),
      429,
      'RATE_LIMITED',
    );
  });

  it('one address spraying 30 numbers in parallel gets at most 5 through; X-Forwarded-For does not reset it (TRUST_PROXY off)', async () => {
    const sprayer = '203.0.113.50';
    const attempts = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        t.app.inject({
          method: 'POST',
          url: '/auth/login',
          payload: { mobileNumber: randomMobileNumber(), password: 'password1' },
          remoteAddress: sprayer,
          headers: { 'x-forwarded-for': `10.0.${i}.1` },
        }),
      ),
    );
    const through = attempts.filter((r) => r.json().code !== 'RATE_LIMITED');
    expect(through.length).toBeLessThanOrEqual(PER_IP);
    expect(through.every((r) => r.statusCode === 401)).toBe(true);
  });
});

describe('oversized bodies and prompts', () => {
  let auth: { authorization: string };
  let room: string;
  beforeAll(async () => {
    const user = await signIn(t.app);
    auth = user.auth;
    room = (await t.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: auth })).json().id;
  });
  const send = (content: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: `/chatroom/${room}/message`, payload: { content }, headers: { ...auth, ...headers } });
  const stored = async () => (await t.db.selectFrom('message').select('id').where('chatroom_id', '=', room).execute()).length;
  const used = async () => (await t.app.inject({ url: '/user/me', headers: auth })).json().usage.used as number;

  it('a body over BODY_LIMIT_BYTES is 413 PAYLOAD_TOO_LARGE on every kind of route, whether it declares its length or is chunked', async () => {
    const big = { content: 'x'.repeat(BODY_LIMIT + 10) };
    expectProblem(await t.app.inject({ method: 'POST', url: `/chatroom/${room}/message`, payload: big, headers: auth }), 413, 'PAYLOAD_TOO_LARGE');
    expectProblem(await t.app.inject({ method: 'POST', url: '/chatroom', payload: { title: 'x'.repeat(BODY_LIMIT) }, headers: auth }), 413, 'PAYLOAD_TOO_LARGE');
    expectProblem(await post(t.app, '/auth/signup', { mobileNumber: randomMobileNumber(), name: 'x'.repeat(BODY_LIMIT) }), 413, 'PAYLOAD_TOO_LARGE');
    // Over a real socket, streamed without a Content-Length: refused once the limit is crossed, not buffered.
    const chunks = [JSON.stringify(big).slice(0, BODY_LIMIT / 2), JSON.stringify(big).slice(BODY_LIMIT / 2)];
    const chunked = await fetch(`${base}/chatroom/${room}/message`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(chunked.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await chunked.json()) as { code: string }).code).toBe('PAYLOAD_TOO_LARGE');
    expect(await stored()).toBe(0);
    expect(await used()).toBe(0);
  });

  it('a prompt over 8000 characters is 400 and costs nothing; 8000 is accepted; the limit counts characters, not bytes', async () => {
    const tooLong = expectProblem(await send('a'.repeat(8001)), 400, 'VALIDATION_FAILED');
    expect(tooLong.errors).toEqual([expect.objectContaining({ in: 'body', field: 'content' })]);
    expectProblem(await send(' \n\t'.repeat(100)), 400, 'VALIDATION_FAILED'); // whitespace only
    expect(await stored()).toBe(0);
    expect(await used()).toBe(0);
    expect((await send('a'.repeat(8000))).statusCode).toBe(202);
    expect(await stored()).toBe(2);
    expect(await used()).toBe(1);
    // 5000 characters of 3 bytes each: 15 kB, under the body limit, and a valid prompt.
    const other = (await t.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: auth })).json().id;
    const wide = await t.app.inject({ method: 'POST', url: `/chatroom/${other}/message`, payload: { content: '漢'.repeat(5000) }, headers: auth });
    expect(wide.statusCode).toBe(202);
    expect(wide.json().userMessage.content).toBe('漢'.repeat(5000));
  });

  it('refuses bodies that are not JSON with a problem, never a 500', async () => {
    for (const [contentType, payload, status, code] of [
      ['application/json', '{"content": "unterminated', 400, 'INVALID_JSON'],
      ['application/json', '{"content":"x","__proto__":{"polluted":true}}', 400, 'INVALID_JSON'],
      ['text/plain', 'content=hello', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['application/x-www-form-urlencoded', 'content=hello', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ] as const) {
      const res = await t.app.inject({ method: 'POST', url: `/chatroom/${room}/message`, payload, headers: { ...auth, 'content-type': contentType } });
      expectProblem(res, status, code);
    }
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});
