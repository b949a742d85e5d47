import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createStore } from '@gemini-chat/shared';
import { buildTestApp, expectProblem, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';
import * as searchMigration from '../../../shared/src/db/migrations/2026-12-07T1100-search.js';

interface Hit {
  chatroomId: string;
  chatroomTitle: string;
  messageId: string | null;
  role: 'user' | 'assistant' | null;
  snippet: string;
  highlights: Array<{ start: number; end: number }>;
  createdAt: string;
}
interface Page {
  items: Hit[];
  nextCursor: string | null;
}

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

const room = async (user: SignedIn, title = 'New chat') =>
  (await t.db.insertInto('chatroom').values({ user_id: user.userId, title }).returning('id').executeTakeFirstOrThrow()).id;

/** A prompt, or a reply to `parentId` in the given state, written straight to the database. */
const message = async (
  user: SignedIn,
  chatroomId: string,
  content: string,
  options: { role?: 'user' | 'assistant'; status?: 'completed' | 'queued' | 'generating' | 'failed' | 'cancelled'; parentId?: string } = {},
): Promise<string> => {
  const role = options.role ?? 'user';
  let parentId = options.parentId ?? null;
  if (role === 'assistant' && !parentId) parentId = await message(user, chatroomId, 'the prompt');
  const row = await t.db
    .insertInto('message')
    .values({ chatroom_id: chatroomId, user_id: user.userId, role, status: options.status ?? 'completed', content, parent_id: parentId, reply_to_id: role === 'assistant' ? parentId : null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
};

const search = (user: SignedIn, q: string, extra: Record<string, string> = {}) =>
  t.app.inject({ url: '/search', query: { q, ...extra }, headers: user.auth });
const hits = async (user: SignedIn, q: string, extra: Record<string, string> = {}): Promise<Hit[]> => {
  const res = await search(user, q, extra);
  if (res.statusCode !== 200) throw new Error(`search ${JSON.stringify(q)}: ${res.statusCode} ${res.body}`);
  return (res.json() as Page).items;
};
const highlighted = (hit: Hit) => hit.highlights.map((h) => hit.snippet.slice(h.start, h.end));

describe('GET /search', () => {
  it('finds titles and finished prompts and replies, with plain-text snippets and highlight ranges', async () => {
    const user = await signIn(t.app);
    const titled = await room(user, 'Quokka habitats');
    const other = await room(user, 'Travel');
    const prompt = await message(user, other, 'Where can I see a QUOKKA in the wild? Émile says Rottnest.');
    const reply = await message(user, other, 'Rottnest Island is home to many quokkas and one quokka colony.', { role: 'assistant', parentId: prompt });

    const found = await hits(user, 'quokka');
    expect(found.map((h) => h.messageId)).toEqual([null, expect.any(String), expect.any(String)]);
    const [title, ...messages] = found as [Hit, ...Hit[]];
    expect(title).toMatchObject({ chatroomId: titled, chatroomTitle: 'Quokka habitats', messageId: null, role: null, snippet: 'Quokka habitats' });
    expect(highlighted(title)).toEqual(['Quokka']);
    expect(new Set(messages.map((h) => h.messageId))).toEqual(new Set([prompt, reply]));
    for (const hit of messages) {
      expect(hit.chatroomId).toBe(other);
      expect(hit.chatroomTitle).toBe('Travel');
      // Whole words only ("quokkas" is another word with the simple configuration), any case.
      expect(highlighted(hit).map((w) => w.toLowerCase())).toEqual(['quokka']);
      expect(hit.snippet).not.toMatch(/hlst|<b>/);
    }
    expect(messages.find((h) => h.messageId === reply)?.role).toBe('assistant');
    expect(messages.find((h) => h.messageId === prompt)?.role).toBe('user');
    // Any language, word by word, and case-insensitively beyond ASCII.
    expect((await hits(user, 'émile')).map((h) => h.messageId)).toEqual([prompt]);
  });

  it('never returns HTML: markup in the text comes back as text, and text shaped like a marker highlights nothing', async () => {
    const user = await signIn(t.app);
    const r = await room(user);
    await message(user, r, '<script>alert(1)</script> <b>zebra</b> hlstart0000000000000000x stripes');
    const [hit] = await hits(user, 'zebra');
    expect(hit?.snippet).toContain('<script>alert(1)</script>');
    expect(hit?.snippet).toContain('hlstart0000000000000000x');
    expect(highlighted(hit!)).toEqual(['zebra']);
  });

  it('shows an excerpt of a long message around its first match, cut at spaces', async () => {
    const user = await signIn(t.app);
    const before = Array.from({ length: 200 }, (_, i) => `before${i}`).join(' ');
    const after = Array.from({ length: 200 }, (_, i) => `after${i} 😀`).join(' ');
    await message(user, await room(user), `${before} the pangolin <rolls> up and the pangolin sleeps ${after}`);
    const [hit] = await hits(user, 'pangolin');
    expect(hit!.snippet.length).toBeLessThanOrEqual(242);
    expect(hit!.snippet).toMatch(/^…before\d+ .* the pangolin <rolls> up and the pangolin sleeps after0 😀 .*\S…$/u);
    expect(highlighted(hit!)).toEqual(['pangolin', 'pangolin']);
  });

  it('leaves out pending, failed and cancelled replies, deleted chatrooms and other users\' text', async () => {
    const alice = await signIn(t.app);
    const bob = await signIn(t.app);
    const r = await room(alice);
    for (const status of ['queued', 'generating', 'failed', 'cancelled'] as const) {
      // One pending reply per chatroom at most.
      await message(alice, await room(alice), `partial narwhal ${status}`, { role: 'assistant', status });
    }
    const kept = await message(alice, r, 'finished narwhal');
    const gone = await room(alice, 'Narwhal notes');
    await message(alice, gone, 'narwhal tusk');
    expect((await t.app.inject({ method: 'DELETE', url: `/chatroom/${gone}`, headers: alice.auth })).statusCode).toBe(204);
    await message(bob, await room(bob, 'narwhal'), 'bob narwhal');

    expect((await hits(alice, 'narwhal')).map((h) => h.messageId)).toEqual([kept]);
    expect((await hits(bob, 'narwhal')).every((h) => h.chatroomTitle === 'narwhal')).toBe(true);
  });

  it('understands web-search syntax: phrases, OR, -word', async () => {
    const user = await signIn(t.app);
    const r = await room(user);
    const redApple = await message(user, r, 'a red apple pie');
    const appleRed = await message(user, r, 'apple is red');
    const pear = await message(user, r, 'a green pear');
    const ids = async (q: string) => new Set((await hits(user, q)).map((h) => h.messageId));

    expect(await ids('"red apple"')).toEqual(new Set([redApple]));
    expect(await ids('red apple')).toEqual(new Set([redApple, appleRed]));
    expect(await ids('pie OR pear')).toEqual(new Set([redApple, pear]));
    expect(await ids('apple -pie')).toEqual(new Set([appleRed]));
    // tsquery operators in the text are words or nothing, never syntax errors.
    for (const q of ['apple & pear', 'apple | pie', '!pear apple', 'apple:*', "apple'", '(apple', 'apple <-> red', '\\apple', '"apple', 'apple OR', 'OR apple', '--apple apple']) {
      expect((await search(user, q)).statusCode, q).toBe(200);
    }
  });

  it('answers 400, never 500, to queries it cannot search', async () => {
    const user = await signIn(t.app);
    for (const q of ['   ', '-', '!!!', '"', '""', '&|!', '()', '- " -']) {
      expectProblem(await search(user, q), 400, 'SEARCH_QUERY_EMPTY');
    }
    expectProblem(await search(user, '-apple -pear'), 400, 'SEARCH_QUERY_ONLY_EXCLUDES');
    expectProblem(await search(user, ''), 400, 'VALIDATION_FAILED');
    expectProblem(await search(user, 'a'.repeat(401)), 400, 'VALIDATION_FAILED');
    expectProblem(await search(user, 'word '.repeat(2048)), 400, 'VALIDATION_FAILED');
    expectProblem(await search(user, 'apple\u0000pear'), 400, 'VALIDATION_FAILED');
    expectProblem(await t.app.inject({ url: '/search', headers: user.auth }), 400, 'VALIDATION_FAILED');
    expectProblem(await t.app.inject({ url: '/search?q=apple&q=pear', headers: user.auth }), 400, 'VALIDATION_FAILED');
    expectProblem(await search(user, 'apple', { cursor: 'garbage' }), 400, 'INVALID_CURSOR');
    const forged = Buffer.from(JSON.stringify({ r: "1'; drop table message; --", t: 'x', id: 'y' })).toString('base64url');
    expectProblem(await search(user, 'apple', { cursor: forged }), 400, 'INVALID_CURSOR');
    expect((await search(user, 'a'.repeat(400))).statusCode).toBe(200);
    expectProblem(await t.app.inject({ url: '/search?q=apple' }), 401, 'UNAUTHORIZED');
  });

  it('ranks a title match above message mentions, and more mentions above fewer', async () => {
    const user = await signIn(t.app);
    const titled = await room(user, 'Ocelot care');
    const r = await room(user);
    const many = await message(user, r, 'ocelot ocelot ocelot: the ocelot is a wild cat');
    const once = await message(user, r, 'we saw an ocelot at the zoo yesterday afternoon');
    const found = await hits(user, 'ocelot');
    expect(found.map((h) => h.messageId ?? h.chatroomId)).toEqual([titled, many, once]);
  });

  it('pages through every hit once, in a stable order, equal ranks newest first', async () => {
    const user = await signIn(t.app);
    const r = await room(user);
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) ids.push(await message(user, r, i % 3 === 0 ? 'lemur lemur' : 'lemur'));
    // Identical times, so the id decides between equals.
    await t.db.updateTable('message').set({ created_at: sql`now() - interval '1 hour'` }).where('id', 'in', ids.slice(0, 6)).execute();

    const all = await hits(user, 'lemur', { limit: '100' });
    expect(all).toHaveLength(23);
    const seen: Hit[] = [];
    let cursor: string | null = null;
    do {
      const res = await search(user, 'lemur', { limit: '5', ...(cursor ? { cursor } : {}) });
      expect(res.statusCode).toBe(200);
      const page = res.json() as Page;
      expect(page.items.length).toBeLessThanOrEqual(5);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((h) => h.messageId)).toEqual(all.map((h) => h.messageId));
    expect(new Set(seen.map((h) => h.messageId)).size).toBe(23);
    // The double mentions first, then newest first among equals.
    const doubles = new Set(ids.filter((_, i) => i % 3 === 0));
    expect(all.slice(0, doubles.size).every((h) => doubles.has(h.messageId!))).toBe(true);
    const singles = all.slice(doubles.size);
    const times = singles.map((h) => Date.parse(h.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('finds a message from three weeks ago', async () => {
    const user = await signIn(t.app);
    const id = await message(user, await room(user), 'the aardvark invoice');
    await t.db.updateTable('message').set({ created_at: sql`now() - interval '21 days'` }).where('id', '=', id).execute();
    const [hit] = await hits(user, 'aardvark');
    expect(hit?.messageId).toBe(id);
    expect(Date.now() - Date.parse(hit!.createdAt)).toBeGreaterThan(20 * 24 * 3600 * 1000);
  });
});

describe('search isolation (property)', () => {
  const VOCAB = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
  const word = fc.constantFrom(...VOCAB);
  const text = fc.array(word, { minLength: 1, maxLength: 8 }).map((ws) => ws.join(' '));
  const query = fc.oneof(
    word,
    fc.tuple(word, word).map(([a, b]) => `${a} OR ${b}`),
    fc.tuple(word, word).map(([a, b]) => `"${a} ${b}"`),
    fc.tuple(word, word).map(([a, b]) => `${a} -${b}`),
    fc.string({ maxLength: 40 }),
  );

  it('never returns another user\'s text, whatever the data and the query', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(text, { minLength: 1, maxLength: 5 }), { minLength: 2, maxLength: 3 }), query, async (corpora, q) => {
        const users = await Promise.all(corpora.map(() => signIn(t.app)));
        const owned = new Map<string, Set<string>>();
        for (const [i, user] of users.entries()) {
          const r = await room(user, corpora[i]![0]!);
          const ids = new Set([r]);
          for (const content of corpora[i]!) ids.add(await message(user, r, content));
          owned.set(user.userId, ids);
        }
        for (const user of users) {
          const res = await search(user, q);
          expect([200, 400]).toContain(res.statusCode);
          if (res.statusCode !== 200) continue;
          for (const hit of (res.json() as Page).items) {
            expect(owned.get(user.userId)!.has(hit.chatroomId)).toBe(true);
            if (hit.messageId) expect(owned.get(user.userId)!.has(hit.messageId)).toBe(true);
          }
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('the search indexes', () => {
  it('are what a search uses on realistic data: no sequential scan of message', async () => {
    const user = await signIn(t.app);
    const others = await Promise.all(Array.from({ length: 3 }, () => signIn(t.app)));
    // 40,000 messages over four users, from a vocabulary of 2,000 words.
    for (const owner of [user, ...others]) {
      const r = await room(owner);
      await sql`
        insert into message (chatroom_id, user_id, role, status, content)
        select ${r}, ${owner.userId}, 'user', 'completed',
               'w' || (i % 2000) || ' w' || ((i * 7) % 2000) || ' filler text w' || ((i * 13) % 2000)
        from generate_series(1, 10000) i
      `.execute(t.db);
    }
    await sql`analyze message`.execute(t.db);
    await sql`analyze chatroom`.execute(t.db);
    const store = createStore(t.db);
    const markers = { start: 'hlstartx', stop: 'hlstopx' };
    for (const q of ['w17', 'w17 OR w1999', '"filler text" w5', 'w42 -w1']) {
      const { rows } = await sql<{ 'QUERY PLAN': unknown }>`explain (format json) ${store.search.searchQuery(user.userId, q, 21, markers)}`.execute(t.db);
      const plan = JSON.stringify(rows[0]!['QUERY PLAN']);
      expect(plan, q).toContain('"Index Name":"message_search_idx"');
      expect(plan, q).not.toMatch(/"Seq Scan"[^}]*"Relation Name":"message"/);
    }
    expect((await hits(user, 'w17')).length).toBe(5 + 5 + 5);
  });
});

describe('the search migration', () => {
  it('indexes the rows already there when it runs', async () => {
    const user = await signIn(t.app);
    await searchMigration.down(t.db);
    try {
      const r = await room(user, 'Existing wombat room');
      await message(user, r, 'an existing wombat message');
    } finally {
      await searchMigration.up(t.db);
    }
    expect((await hits(user, 'wombat')).map((h) => h.role)).toEqual([null, 'user']);
  });
});
