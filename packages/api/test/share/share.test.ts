import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';
import { buildApp } from '../../src/app.js';

// No worker runs here: a reply stays queued until the test finishes it by hand, which is all a snapshot needs.

const BASE_URL = 'https://chat.example.test';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const HOSTILE = '<script>alert(1)</script> and "><img src=x onerror=alert(2)> & \'quotes\'';

let t: TestApp;
let user: SignedIn;
beforeAll(async () => {
  t = await buildTestApp({ QUOTA_BASIC_DAILY: '0', PUBLIC_BASE_URL: `${BASE_URL}/`, SHARE_RATE_LIMIT_PER_IP: '1000' });
  user = await signIn(t.app, { name: 'Ada Secret', email: 'ada.secret@example.test' });
});
afterAll(() => t.close());

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
const call = (method: Method, url: string, payload?: object, who: SignedIn = user) =>
  t.app.inject({ method, url, headers: who.auth, ...(payload ? { payload } : {}) });
const createRoom = async (title = 'Trip plans', who: SignedIn = user) => (await call('POST', '/chatroom', { title }, who)).json().id as string;
const finish = (replyId: string, content: string) =>
  t.db.updateTable('message').set({ status: 'completed', content }).where('id', '=', replyId).execute();
/** Sends a prompt (optionally branching at parentId) and finishes its reply with `answer`. */
async function exchange(roomId: string, content: string, answer: string, parentId?: string | null) {
  const res = await call('POST', `/chatroom/${roomId}/message`, { content, ...(parentId !== undefined ? { parentId } : {}) });
  expect(res.statusCode).toBe(202);
  await finish(res.json().reply.id, answer);
  return { prompt: res.json().userMessage as { id: string; parentId: string | null }, reply: res.json().reply as { id: string } };
}
const share = async (roomId: string, who: SignedIn = user) => {
  const res = await call('POST', `/chatroom/${roomId}/shares`, undefined, who);
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; url: string; createdAt: string; messageCount: number; chatroomId: string; title: string };
};
const readPublic = (shareId: string, accept?: string, remoteAddress?: string) =>
  t.app.inject({ method: 'GET', url: `/s/${shareId}`, headers: accept ? { accept } : {}, ...(remoteAddress ? { remoteAddress } : {}) });
const contents = (body: { messages: Array<{ role: string; content: string }> }) => body.messages.map((m) => `${m.role}: ${m.content}`);

describe('taking a share', () => {
  it('answers with a v4 id and a public link, and keeps the branch as it was through sends, edits, renames and branch switches', async () => {
    const roomId = await createRoom();
    const first = await exchange(roomId, 'Where to go in May?', 'Lisbon.');
    await exchange(roomId, 'And for food?', 'Try the bifanas.');

    const created = await share(roomId);
    expect(created.id).toMatch(UUID_V4);
    expect(created.url).toBe(`${BASE_URL}/s/${created.id}`);
    expect(created).toMatchObject({ messageCount: 4, chatroomId: roomId, title: 'Trip plans' });
    expect(Date.parse(created.createdAt)).not.toBeNaN();
    const original = (await readPublic(created.id)).json();
    expect(contents(original)).toEqual(['user: Where to go in May?', 'assistant: Lisbon.', 'user: And for food?', 'assistant: Try the bifanas.']);

    // A new message, an edit of the second prompt (a new branch), a rename and a switch back to the first branch.
    const third = await exchange(roomId, 'Hotels?', 'Alfama.');
    const edited = await exchange(roomId, 'And for wine?', 'Vinho verde.', first.reply.id);
    expect((await call('PATCH', `/chatroom/${roomId}`, { title: 'Renamed' })).statusCode).toBe(200);
    expect(contents((await readPublic(created.id)).json())).toEqual(contents(original));
    expect((await call('PATCH', `/chatroom/${roomId}`, { currentMessageId: third.reply.id })).statusCode).toBe(200);
    expect((await readPublic(created.id)).json()).toEqual(original);

    // A new share is of the branch current now: after switching to the edit, that is the edited branch.
    expect((await call('PATCH', `/chatroom/${roomId}`, { currentMessageId: edited.reply.id })).statusCode).toBe(200);
    const later = await share(roomId);
    expect(later.id).not.toBe(created.id);
    const laterBody = (await readPublic(later.id)).json();
    expect(laterBody.title).toBe('Renamed');
    expect(contents(laterBody)).toEqual(['user: Where to go in May?', 'assistant: Lisbon.', 'user: And for wine?', 'assistant: Vinho verde.']);
  });

  it('copies finished messages only: a reply still queued (or failed) stays out', async () => {
    const roomId = await createRoom();
    await exchange(roomId, 'One', 'Uno');
    const failedSend = await call('POST', `/chatroom/${roomId}/message`, { content: 'Two' });
    await t.db.updateTable('message').set({ status: 'failed', content: 'half a rep' }).where('id', '=', failedSend.json().reply.id).execute();
    expect((await call('POST', `/chatroom/${roomId}/message`, { content: 'Three' })).statusCode).toBe(202); // stays queued
    const created = await share(roomId);
    expect(created.messageCount).toBe(4);
    expect(contents((await readPublic(created.id)).json())).toEqual(['user: One', 'assistant: Uno', 'user: Two', 'user: Three']);
  });

  it('refuses a chatroom with nothing finished, another user\'s chatroom, and callers without a token', async () => {
    const empty = await createRoom();
    expectProblem(await call('POST', `/chatroom/${empty}/shares`), 409, 'NOTHING_TO_SHARE');
    const other = await signIn(t.app);
    const roomId = await createRoom();
    await exchange(roomId, 'Mine', 'Yours');
    expectProblem(await call('POST', `/chatroom/${roomId}/shares`, undefined, other), 404, 'CHATROOM_NOT_FOUND');
    expectProblem(await call('POST', `/chatroom/${randomUUID()}/shares`), 404, 'CHATROOM_NOT_FOUND');
    expectProblem(await t.app.inject({ method: 'POST', url: `/chatroom/${roomId}/shares` }), 401, 'UNAUTHORIZED');
    expect(await t.db.selectFrom('share').select('id').where('chatroom_id', 'in', [empty, roomId]).execute()).toEqual([]);
  });
});

describe('the public link', () => {
  it('answers JSON with exactly the title, the messages and the time: nothing about who shared it', async () => {
    const roomId = await createRoom('Notes');
    await exchange(roomId, 'Hi', 'Hello');
    const created = await share(roomId);
    const res = await readPublic(created.id);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['createdAt', 'messages', 'title']);
    for (const message of body.messages) expect(Object.keys(message).sort()).toEqual(['content', 'createdAt', 'role']);
    expect(body.createdAt).toBe(created.createdAt);
    for (const secret of [user.userId, user.mobileNumber, roomId, 'Ada Secret', 'ada.secret@example.test']) {
      expect(res.body).not.toContain(secret);
    }
    expect(res.headers).toMatchObject({ 'cache-control': 'no-store', 'x-robots-tag': expect.stringContaining('noindex'), 'referrer-policy': 'no-referrer' });
    // Any Accept that does not prefer HTML gets JSON.
    for (const accept of ['*/*', 'application/json', 'text/plain', 'application/json, text/html;q=0.5']) {
      expect((await readPublic(created.id, accept)).headers['content-type']).toMatch(/^application\/json/);
    }
  });

  it('gives a browser an inert page: every text escaped, no script, a strict CSP, noindex', async () => {
    const roomId = await createRoom(`Title ${HOSTILE}`);
    await exchange(roomId, HOSTILE, `**bold** ${HOSTILE}\nsecond line`);
    const created = await share(roomId);
    const res = await readPublic(created.id, 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = res.body;
    expect(html).not.toMatch(/<script|<img|onerror=alert\(2\)>/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; and &quot;&gt;&lt;img src=x onerror=alert(2)&gt; &amp; &#39;quotes&#39;');
    expect(html).toContain('**bold**'); // Markdown is shown as written, never turned into markup
    expect(html).toContain('second line');
    expect(html).toContain('<meta name="robots" content="noindex, nofollow">');
    expect(html).toMatch(/<title>Title &lt;script&gt;/);

    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src|unsafe-inline|unsafe-eval/);
    // The one inline stylesheet is allowed by its hash, so the page is styled and nothing else is.
    const style = /<style>([^<]*)<\/style>/.exec(html)?.[1] ?? '';
    expect(csp).toContain(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(res.headers).toMatchObject({
      'x-robots-tag': expect.stringContaining('noindex'),
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      vary: expect.stringMatching(/accept/i),
    });
  });

  it('is 404 the same way for unknown, malformed and over-long ids, for a browser too', async () => {
    expectProblem(await readPublic('x'.repeat(150)), 404, 'SHARE_NOT_FOUND'); // over the router's parameter limit
    for (const id of [randomUUID(), 'not-a-share', '00000000-0000-0000-0000-00000000000g', "1' or '1'='1", 'x'.repeat(90)]) {
      const json = await readPublic(encodeURIComponent(id));
      expectProblem(json, 404, 'SHARE_NOT_FOUND');
      expect(json.headers['cache-control']).toBe('no-store');
      // A browser gets the same problem: every error is one, whatever the client prefers.
      expectProblem(await readPublic(encodeURIComponent(id), 'text/html'), 404, 'SHARE_NOT_FOUND');
    }
  });
});

describe('owning shares', () => {
  it('lists only the caller\'s shares, newest first and paged; another user can neither see nor revoke them', async () => {
    const owner = await signIn(t.app);
    const other = await signIn(t.app);
    const roomId = await createRoom('Listed', owner);
    const send = await call('POST', `/chatroom/${roomId}/message`, { content: 'Q' }, owner);
    await finish(send.json().reply.id, 'A');
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await share(roomId, owner)).id);

    const first = await call('GET', '/shares?limit=2', undefined, owner);
    expect(first.statusCode).toBe(200);
    const second = await call('GET', `/shares?limit=2&cursor=${first.json().nextCursor}`, undefined, owner);
    expect(second.json().nextCursor).toBeNull();
    const listed = [...first.json().items, ...second.json().items];
    expect(listed.map((s: { id: string }) => s.id)).toEqual([...made].reverse());
    expect(listed[0]).toEqual({
      id: made[2],
      url: `${BASE_URL}/s/${made[2]}`,
      chatroomId: roomId,
      title: 'Listed',
      messageCount: 2,
      createdAt: expect.any(String),
    });

    expect((await call('GET', '/shares', undefined, other)).json()).toEqual({ items: [], nextCursor: null });
    expectProblem(await call('DELETE', `/shares/${made[0]}`, undefined, other), 404, 'SHARE_NOT_FOUND');
    expect((await readPublic(made[0]!)).statusCode).toBe(200);
    expectProblem(await call('DELETE', '/shares/not-a-uuid', undefined, owner), 400, 'VALIDATION_FAILED');
    expectProblem(await call('GET', '/shares?cursor=bogus', undefined, owner), 400, 'INVALID_CURSOR');
  });

  it('revokes at once, on this instance and on another one', async () => {
    const another = await buildApp({ config: t.config, logger: false });
    try {
      const roomId = await createRoom();
      await exchange(roomId, 'Q', 'A');
      const created = await share(roomId);
      const onAnother = () => another.inject({ method: 'GET', url: `/s/${created.id}` });
      expect((await onAnother()).statusCode).toBe(200);

      expect((await call('DELETE', `/shares/${created.id}`)).statusCode).toBe(204);
      expectProblem(await readPublic(created.id), 404, 'SHARE_NOT_FOUND');
      expectProblem(await onAnother(), 404, 'SHARE_NOT_FOUND');
      expectProblem(await call('DELETE', `/shares/${created.id}`), 404, 'SHARE_NOT_FOUND');
      expect((await call('GET', '/shares')).json().items.map((s: { id: string }) => s.id)).not.toContain(created.id);
    } finally {
      await another.close();
    }
  });

  it('goes with its chatroom', async () => {
    const roomId = await createRoom();
    await exchange(roomId, 'Q', 'A');
    const created = await share(roomId);
    expect((await call('DELETE', `/chatroom/${roomId}`)).statusCode).toBe(204);
    expectProblem(await readPublic(created.id), 404, 'SHARE_NOT_FOUND');
    expect((await call('GET', '/shares')).json().items.map((s: { id: string }) => s.id)).not.toContain(created.id);
  });
});

describe('the per-IP limit', () => {
  it('answers 429 with Retry-After past SHARE_RATE_LIMIT_PER_IP a minute, unknown ids counted too; other addresses go on', async () => {
    const limited = await buildTestApp({ SHARE_RATE_LIMIT_PER_IP: '3' });
    try {
      const read = (remoteAddress: string) => limited.app.inject({ method: 'GET', url: `/s/${randomUUID()}`, remoteAddress });
      for (let i = 0; i < 3; i++) expect((await read('203.0.113.7')).statusCode).toBe(404);
      const blocked = await read('203.0.113.7');
      expectProblem(blocked, 429, 'RATE_LIMITED');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect((await read('203.0.113.8')).statusCode).toBe(404);
    } finally {
      await limited.close();
    }
  });
});
