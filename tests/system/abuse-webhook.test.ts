// Abuse: POST /webhook/stripe, the one route an outsider can reach without a token. Payloads are signed here with
// Stripe's documented scheme (Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>), not
// with the fake's helper: forged, stale, tampered or malformed signatures must be 400 with nothing stored and no
// call to Stripe; a genuine event delivered again (even 10 times at once) must have one effect.
// Runs only while the contract has the route (it was being added when this suite was written).
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildBillingTestApp,
  expectProblem,
  signIn,
  subscribeAndPay,
  tierInDb,
  WEBHOOK_SECRET,
  type BillingTestApp,
  type SignedIn,
} from '@gemini-chat/testkit';
import { loadSpec } from './support/openapi.js';

const HAS_WEBHOOK = '/webhook/stripe' in loadSpec().paths;

const sign = (payload: string, secret: string, t = Math.floor(Date.now() / 1000)) =>
  `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${payload}`, 'utf8').digest('hex')}`;

describe.skipIf(!HAS_WEBHOOK)('POST /webhook/stripe under attack', () => {
  let t: BillingTestApp;
  let user: SignedIn;
  let subscriptionId: string;
  beforeAll(async () => {
    t = await buildBillingTestApp();
    user = await signIn(t.app);
    ({ subscriptionId } = await subscribeAndPay(t, user));
    await t.fake.webhooksIdle();
  });
  afterAll(() => t?.close());

  const deliver = (payload: string, headers: Record<string, string>) =>
    t.app.inject({ method: 'POST', url: '/webhook/stripe', payload, headers: { 'content-type': 'application/json', ...headers } });
  const recorded = async (id: string) => (await t.db.selectFrom('stripe_event').select('id').where('id', '=', id).execute()).length;
  const stripeCalls = () => t.fake.requests.length;
  const subscriptionRow = () => t.db.selectFrom('subscription').selectAll().where('stripe_subscription_id', '=', subscriptionId).executeTakeFirstOrThrow();

  it('refuses forged, stale, tampered and malformed signatures with 400, stores nothing and never calls Stripe', async () => {
    expect(await tierInDb(t, user.userId)).toBe('pro');
    const before = { row: await subscriptionRow(), calls: stripeCalls() };
    // A forged "your subscription was deleted" event for the victim's real subscription.
    const forged = JSON.stringify({
      id: 'evt_forged_delete',
      object: 'event',
      type: 'customer.subscription.deleted',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: subscriptionId, object: 'subscription', status: 'canceled', customer: 'cus_x' } },
    });
    const now = Math.floor(Date.now() / 1000);
    const v1Only = (header: string) => header.split(',').find((part) => part.startsWith('v1='))!;
    const attempts: Array<[string, string, Record<string, string>]> = [
      ['wrong secret', forged, { 'stripe-signature': sign(forged, 'whsec_guessed_secret') }],
      ['empty secret', forged, { 'stripe-signature': sign(forged, '') }],
      ['stale (301 s old)', forged, { 'stripe-signature': sign(forged, WEBHOOK_SECRET, now - 301) }],
      ['stale (a day old)', forged, { 'stripe-signature': sign(forged, WEBHOOK_SECRET, now - 86_400) }],
      ['tampered body', forged.replace('canceled', 'active'), { 'stripe-signature': sign(forged, WEBHOOK_SECRET) }],
      ['re-serialised body', JSON.stringify(JSON.parse(forged), null, 2), { 'stripe-signature': sign(forged, WEBHOOK_SECRET) }],
      ['no header', forged, {}],
      ['v0 scheme only', forged, { 'stripe-signature': `t=${now},v0=${v1Only(sign(forged, WEBHOOK_SECRET)).slice(3)}` }],
      ['signature without timestamp', forged, { 'stripe-signature': v1Only(sign(forged, WEBHOOK_SECRET)) }],
      ['garbage header', forged, { 'stripe-signature': 'x'.repeat(4000) }],
      ['signature of the empty body', forged, { 'stripe-signature': sign('', WEBHOOK_SECRET) }],
    ];
    for (const [what, payload, headers] of attempts) {
      const res = await deliver(payload, headers);
      expect({ what, status: res.statusCode, code: res.json().code }).toEqual({ what, status: 400, code: 'WEBHOOK_SIGNATURE_INVALID' });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    // Not a JSON body at all: refused before any signature work.
    expect((await t.app.inject({ method: 'POST', url: '/webhook/stripe', payload: forged, headers: { 'content-type': 'text/plain', 'stripe-signature': sign(forged, WEBHOOK_SECRET) } })).statusCode).toBe(415);
    // Over the webhook's own 512 kB limit.
    const huge = JSON.stringify({ id: 'evt_huge', padding: 'x'.repeat(600 * 1024) });
    expectProblem(await deliver(huge, { 'stripe-signature': sign(huge, WEBHOOK_SECRET) }), 413, 'PAYLOAD_TOO_LARGE');

    expect(await recorded('evt_forged_delete')).toBe(0);
    expect(await tierInDb(t, user.userId)).toBe('pro');
    expect(await subscriptionRow()).toEqual(before.row);
    expect(stripeCalls()).toBe(before.calls);
  });

  it('a genuine event delivered again, 10 times at once and then one by one, has one effect', async () => {
    const genuine = t.fake.events.find((e) => e.type === 'customer.subscription.updated' && (e.data.object as { id?: string }).id === subscriptionId);
    expect(genuine).toBeDefined();
    const payload = JSON.stringify(genuine);
    expect(await recorded(genuine!.id)).toBe(1); // delivered by the fake when the checkout was paid
    const before = { row: await subscriptionRow(), calls: stripeCalls() };

    const burst = await Promise.all(Array.from({ length: 10 }, () => deliver(payload, { 'stripe-signature': sign(payload, WEBHOOK_SECRET) })));
    expect(burst.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    expect(burst.every((r) => r.json().received === true)).toBe(true);
    for (let i = 0; i < 3; i++) expect((await deliver(payload, { 'stripe-signature': sign(payload, WEBHOOK_SECRET) })).statusCode).toBe(200);

    expect(await recorded(genuine!.id)).toBe(1);
    expect(await subscriptionRow()).toEqual(before.row);
    expect(stripeCalls()).toBe(before.calls); // a redelivery is answered without asking Stripe
    expect(await tierInDb(t, user.userId)).toBe('pro');
  });

  it('a new, correctly signed event id is processed once even when it arrives 10 times at once', async () => {
    const template = t.fake.events.find((e) => e.type === 'customer.subscription.updated' && (e.data.object as { id?: string }).id === subscriptionId)!;
    const fresh = JSON.stringify({ ...template, id: `evt_replayed_${Date.now()}` });
    const burst = await Promise.all(Array.from({ length: 10 }, () => deliver(fresh, { 'stripe-signature': sign(fresh, WEBHOOK_SECRET) })));
    expect(burst.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    expect(await recorded(JSON.parse(fresh).id)).toBe(1);
    expect(await tierInDb(t, user.userId)).toBe('pro');
  });
});
