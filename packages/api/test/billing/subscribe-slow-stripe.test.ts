import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildBillingTestApp, signIn, stripeCalls, subscribe, type BillingTestApp } from '@gemini-chat/testkit';

// POST /subscribe/pro makes up to three Stripe calls. None of them may hold a database transaction (and with it
// the user's row and a pool connection) while Stripe takes its time.

let t: BillingTestApp;
beforeAll(async () => {
  // Short enough that a write stuck behind a held row lock fails well within the test's time.
  t = await buildBillingTestApp({ DATABASE_STATEMENT_TIMEOUT_MS: '3000' });
});
afterEach(() => t.fake.releaseApi());
afterAll(() => t.close());

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** Locks on this test's tables held by other backends, with what those backends are doing. */
async function locksHeldOnOurTables() {
  const { rows } = await sql<{ relname: string; mode: string; state: string }>`
    select c.relname, l.mode, a.state
    from pg_locks l
    join pg_class c on c.oid = l.relation
    join pg_namespace n on n.oid = c.relnamespace
    join pg_stat_activity a on a.pid = l.pid
    where n.nspname = ${t.config.database.schema} and l.pid <> pg_backend_pid()
  `.execute(t.db);
  return rows;
}

// Answered 200 and not a replay: an object Stripe really created.
const created = (path: string) => stripeCalls(t.fake, 'POST', path).filter((r) => r.status === 200);
const customersCreatedFor = (userId: string) =>
  created('/v1/customers').filter((r) => (r.body.metadata as Record<string, string> | undefined)?.userId === userId);
const sessionsCreatedFor = (userId: string) => created('/v1/checkout/sessions').filter((r) => r.body.client_reference_id === userId);

describe('POST /subscribe/pro while Stripe is slow', () => {
  it('holds no transaction or row lock during a Stripe call: a write to the same user goes through at once', async () => {
    const user = await signIn(t.app);
    t.fake.holdApi({ method: 'POST', path: '/v1/customers' });
    const subscribing = subscribe(t, user);
    await eventually(() => t.fake.heldApiRequests.length === 1);

    const started = performance.now();
    const patched = await t.app.inject({ method: 'PATCH', url: '/user/me', payload: { name: 'Ada' }, headers: user.auth });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().name).toBe('Ada');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await locksHeldOnOurTables()).toEqual([]);

    t.fake.releaseApi();
    const res = await subscribing;
    expect(res.statusCode).toBe(201);
    expect(res.json().sessionId).toMatch(/^cs_test_/);
  });

  it('holds nothing while the Checkout Session is being created either', async () => {
    const user = await signIn(t.app);
    t.fake.holdApi({ method: 'POST', path: '/v1/checkout/sessions' });
    const subscribing = subscribe(t, user);
    await eventually(() => t.fake.heldApiRequests.length === 1);

    expect(await locksHeldOnOurTables()).toEqual([]);
    const started = performance.now();
    const patched = await t.app.inject({ method: 'PATCH', url: '/user/me', payload: { email: 'ada@example.com' }, headers: user.auth });
    expect(patched.statusCode).toBe(200);
    expect(performance.now() - started).toBeLessThan(2000);

    t.fake.releaseApi();
    expect((await subscribing).statusCode).toBe(201);
  });

  it('still makes one customer and one session when a second call arrives while the first is inside Stripe', async () => {
    const user = await signIn(t.app);
    t.fake.holdApi({ method: 'POST', path: '/v1/checkout/sessions' });
    const first = subscribe(t, user);
    await eventually(() => t.fake.heldApiRequests.length === 1);

    // The second call asks Stripe for the same session (the same idempotency key): Stripe answers 409
    // idempotency_key_in_use while the first is executing, and stripe-node tries again after a backoff.
    const second = subscribe(t, user);
    await eventually(() => t.fake.requests.some((r) => r.path === '/v1/checkout/sessions' && r.status === 409));
    t.fake.releaseApi();

    const [a, b] = await Promise.all([first, second]);
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect(b.json()).toEqual(a.json());
    expect(customersCreatedFor(user.userId)).toHaveLength(1);
    expect(sessionsCreatedFor(user.userId)).toHaveLength(1);
    // And the next call reuses it.
    expect((await subscribe(t, user)).json()).toEqual(a.json());
    expect(sessionsCreatedFor(user.userId)).toHaveLength(1);
  });

  it('holds nothing while it checks an open session with Stripe', async () => {
    const user = await signIn(t.app);
    const { sessionId } = (await subscribe(t, user)).json();
    t.fake.holdApi({ method: 'GET', path: '/v1/checkout/sessions/:id' });
    const again = subscribe(t, user);
    await eventually(() => t.fake.heldApiRequests.length === 1);

    expect(await locksHeldOnOurTables()).toEqual([]);
    const patched = await t.app.inject({ method: 'PATCH', url: '/user/me', payload: { name: 'Grace' }, headers: user.auth });
    expect(patched.statusCode).toBe(200);

    t.fake.releaseApi();
    const res = await again;
    expect(res.statusCode).toBe(201);
    expect(res.json().sessionId).toBe(sessionId);
  });
});

describe('POST /subscribe/pro without a lock', () => {
  it('replaces an expired session with exactly one new one when many calls find it expired at once', async () => {
    const user = await signIn(t.app);
    const { sessionId: expired } = (await subscribe(t, user)).json();
    const stripe = new Stripe('sk_test_billing_tests', { ...t.fake.stripeConfig, maxNetworkRetries: 0 });
    await stripe.checkout.sessions.expire(expired);
    await t.fake.webhooksIdle();

    const results = await Promise.all(Array.from({ length: 6 }, () => subscribe(t, user)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(6).fill(201));
    const ids = new Set(results.map((r) => r.json().sessionId));
    expect(ids.size).toBe(1);
    expect(ids.has(expired)).toBe(false);
    expect(sessionsCreatedFor(user.userId)).toHaveLength(2);
    expect(customersCreatedFor(user.userId)).toHaveLength(1);
  });
});
