// Abuse: user B aims at user A's resources on every route that takes an id. Each answer must be exactly the answer
// for an id that does not exist (404, same code, same fields, same text: no existence leak), and A's data, list
// cache and quota must be exactly as before. Also: ids of another chatroom, upper-case ids, A's Idempotency-Key.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, signInOver, startStack, type HttpResult, type SignedIn, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '@gemini-chat/worker/worker';

let s: Stack;
let base: string;
let a: SignedIn;
let b: SignedIn;
interface Room {
  id: string;
  userMessageId: string;
  replyId: string;
}
let roomA: Room;
let otherRoomA: Room;
let roomB: Room;
const A_KEY = `a-key-${randomUUID()}`;

async function roomWithExchange(user: SignedIn, title: string, key?: string): Promise<Room> {
  const id = ((await http(base, 'POST', '/chatroom', { headers: user.auth, body: { title, systemPrompt: `secret of ${title}` } })).json() as { id: string }).id;
  const sent = await http(base, 'POST', `/chatroom/${id}/message`, {
    headers: { ...user.auth, prefer: 'wait=10', ...(key ? { 'idempotency-key': key } : {}) },
    body: { content: `private prompt in ${title}` },
  });
  expect(sent.status).toBe(200);
  const body = sent.json() as { reply: { id: string }; userMessage: { id: string } };
  return { id, userMessageId: body.userMessage.id, replyId: body.reply.id };
}

beforeAll(async () => {
  s = await startStack({ QUOTA_BASIC_DAILY: '100', PREFER_WAIT_MAX_SECONDS: '10' }, { startWorker });
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });
  [a, b] = await Promise.all([signInOver(base), signInOver(base)]);
  roomA = await roomWithExchange(a, 'A main', A_KEY);
  otherRoomA = await roomWithExchange(a, 'A other');
  roomB = await roomWithExchange(b, 'B main');
});
afterAll(() => s?.close());

/** Everything of A's that an attack could change. */
async function snapshotOfA() {
  const rooms = await s.db.selectFrom('chatroom').selectAll().where('user_id', '=', a.userId).orderBy('id').execute();
  const messages = await s.db.selectFrom('message').selectAll().where('user_id', '=', a.userId).orderBy('id').execute();
  const list = await http(base, 'GET', '/chatroom', { headers: a.auth });
  const me = await http(base, 'GET', '/user/me', { headers: a.auth });
  return { rooms, messages, list: { etag: list.headers.get('etag'), body: list.json() }, used: (me.json() as { usage: { used: number } }).usage.used };
}

interface Route {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}
const ROUTES: Route[] = [
  { method: 'GET', path: '/chatroom/{id}' },
  { method: 'PATCH', path: '/chatroom/{id}', body: { title: 'pwned', systemPrompt: 'pwned' } },
  { method: 'DELETE', path: '/chatroom/{id}' },
  { method: 'GET', path: '/chatroom/{id}/latest' },
  { method: 'POST', path: '/chatroom/{id}/message', body: { content: 'pwned' } },
  { method: 'GET', path: '/chatroom/{id}/messages' },
  { method: 'GET', path: '/chatroom/{id}/messages/{messageId}' },
  { method: 'GET', path: '/chatroom/{id}/messages/{messageId}/stream', headers: { accept: 'text/event-stream' } },
  { method: 'POST', path: '/chatroom/{id}/messages/{messageId}/cancel' },
  { method: 'POST', path: '/chatroom/{id}/messages/{messageId}/regenerate' },
  { method: 'POST', path: '/chatroom/{id}/fork', body: { messageId: '00000000-0000-4000-8000-000000000000' } },
];

function call(user: SignedIn, route: Route, id: string, messageId: string): Promise<HttpResult> {
  const path = route.path.replace('{id}', id).replace('{messageId}', messageId);
  return http(base, route.method, path, { headers: { ...user.auth, ...route.headers }, ...(route.body ? { body: route.body } : {}) });
}

/** The parts of an answer that must not differ between "someone else's" and "missing". */
function shape(res: HttpResult) {
  const body = res.json() as Record<string, unknown>;
  const { requestId: _requestId, ...rest } = body;
  const headerNames = [...res.headers.keys()].filter((h) => !['date', 'x-request-id'].includes(h)).sort();
  return { status: res.status, contentType: res.headers.get('content-type'), headerNames, body: rest, bodyKeys: Object.keys(body).sort() };
}

describe('user B against user A\'s resources, on every route that takes an id', () => {
  it('gets exactly the answer for a missing id (404, same body shape and text) and changes nothing of A\'s', async () => {
    const before = await snapshotOfA();
    const cases: string[] = [];
    for (const route of ROUTES) {
      const needsMessage = route.path.includes('{messageId}');
      const probes: Array<[string, () => Promise<HttpResult>, () => Promise<HttpResult>]> = [
        // A's chatroom (and A's reply) vs ids that exist nowhere.
        ['A\'s chatroom', () => call(b, route, roomA.id, roomA.replyId), () => call(b, route, randomUUID(), randomUUID())],
        // The same ids written in upper case (Postgres compares uuids case-insensitively).
        ['A\'s chatroom, upper case', () => call(b, route, roomA.id.toUpperCase(), roomA.replyId.toUpperCase()), () => call(b, route, randomUUID().toUpperCase(), randomUUID())],
      ];
      if (needsMessage) {
        // B's own chatroom with A's message: the message belongs to another chatroom (and user).
        probes.push(['A\'s message in B\'s chatroom', () => call(b, route, roomB.id, roomA.replyId), () => call(b, route, roomB.id, randomUUID())]);
        probes.push(['A\'s user message in B\'s chatroom', () => call(b, route, roomB.id, roomA.userMessageId), () => call(b, route, roomB.id, randomUUID())]);
        // A's own chatroom with a message of A's other chatroom: not part of this chatroom either.
        probes.push(['A\'s other chatroom\'s message', () => call(a, route, roomA.id, otherRoomA.replyId), () => call(a, route, roomA.id, randomUUID())]);
      }
      for (const [what, attack, missing] of probes) {
        const [attacked, absent] = [await attack(), await missing()];
        const label = `${route.method} ${route.path} (${what})`;
        cases.push(label);
        expect({ label, status: attacked.status }).toEqual({ label, status: 404 });
        expect({ label, ...shape(attacked) }).toEqual({ label, ...shape(absent) });
        expect(attacked.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      }
    }
    expect(cases.length).toBe(ROUTES.length * 2 + ROUTES.filter((r) => r.path.includes('{messageId}')).length * 3);

    // Nothing of A's moved: rows, the (cached) list and its ETag, the quota.
    expect(await snapshotOfA()).toEqual(before);
    // B was not charged for sends that were refused.
    const meB = await http(base, 'GET', '/user/me', { headers: b.auth });
    expect((meB.json() as { usage: { used: number } }).usage.used).toBe(1);
  });

  it('lists only the caller\'s chatrooms and never replays another user\'s Idempotency-Key', async () => {
    const listB = (await http(base, 'GET', '/chatroom?limit=100', { headers: b.auth })).json() as { items: Array<{ id: string }> };
    expect(listB.items.map((room) => room.id)).toEqual([roomB.id]);

    // B reuses A's key on B's own chatroom: a new send of B's, not A's stored answer.
    const room = ((await http(base, 'POST', '/chatroom', { headers: b.auth, body: {} })).json() as { id: string }).id;
    const reused = await http(base, 'POST', `/chatroom/${room}/message`, { headers: { ...b.auth, 'idempotency-key': A_KEY }, body: { content: `private prompt in A main` } });
    expect(reused.status).toBe(202);
    expect(reused.headers.get('idempotent-replayed')).toBeNull();
    const body = reused.json() as { reply: { id: string; chatroomId: string }; userMessage: { content: string } };
    expect(body.reply.id).not.toBe(roomA.replyId);
    expect(body.reply.chatroomId).toBe(room);
    // And A's key still replays A's own answer to A.
    const replay = await http(base, 'POST', `/chatroom/${roomA.id}/message`, { headers: { ...a.auth, 'idempotency-key': A_KEY }, body: { content: 'private prompt in A main' } });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((replay.json() as { reply: { id: string } }).reply.id).toBe(roomA.replyId);
  });
});
