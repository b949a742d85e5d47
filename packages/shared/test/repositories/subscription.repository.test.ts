import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../src/index.js';
import { isolate, type Isolated } from '@gemini-chat/testkit';

let iso: Isolated;
let store: Store;
beforeAll(async () => {
  iso = await isolate();
  store = createStore(iso.db);
});
afterAll(() => iso.cleanup());

const snapshot = (userId: string, status: string, version: string) => ({
  stripe_subscription_id: 'sub_guarded',
  user_id: userId,
  stripe_customer_id: 'cus_guarded',
  status,
  price_id: 'price_pro_monthly',
  current_period_start: new Date('2026-11-01T00:00:00Z'),
  current_period_end: new Date('2026-12-01T00:00:00Z'),
  cancel_at_period_end: false,
  cancel_at: null,
  canceled_at: null,
  ended_at: null,
  past_due_since: null,
  sync_version: version,
});

describe('subscription repository', () => {
  it('hands out increasing sync tickets', async () => {
    const tickets = [];
    for (let i = 0; i < 3; i++) tickets.push(BigInt(await store.subscriptions.nextSyncVersion()));
    expect(tickets[1]! > tickets[0]!).toBe(true);
    expect(tickets[2]! > tickets[1]!).toBe(true);
  });

  it('keeps the snapshot of the latest ticket: an older retrieve written late never overwrites a newer one', async () => {
    const user = await store.users.insert({ mobile_number: '+14155550199' });
    if (!user) throw new Error('no user');
    expect(await store.subscriptions.upsert(snapshot(user.id, 'active', '10'))).toBe(true);
    expect(await store.subscriptions.upsert(snapshot(user.id, 'incomplete', '7'))).toBe(false);
    expect(await store.subscriptions.upsert(snapshot(user.id, 'incomplete', '10'))).toBe(false);
    expect((await store.subscriptions.listForUser(user.id)).map((s) => [s.status, s.sync_version])).toEqual([['active', '10']]);
    expect(await store.subscriptions.upsert(snapshot(user.id, 'canceled', '11'))).toBe(true);
    expect((await store.subscriptions.listForUser(user.id)).map((s) => [s.status, s.sync_version])).toEqual([['canceled', '11']]);
  });
});
