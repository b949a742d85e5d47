import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, fileUpload, pngFixture, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';

// No worker runs here: each reply is finished by hand in the database, which is all an export needs (it reads the
// stored tree). The import body limit is raised above the default body limit, and kept small enough to exceed.
const IMPORT_MAX_BYTES = 256 * 1024;

let t: TestApp;
let alice: SignedIn;
let bob: SignedIn;
beforeAll(async () => {
  t = await buildTestApp({ QUOTA_BASIC_DAILY: '0', IMPORT_MAX_BYTES: String(IMPORT_MAX_BYTES) });
  alice = await signIn(t.app);
  bob = await signIn(t.app);
});
afterAll(() => t.close());

type Method = 'GET' | 'POST' | 'PATCH';
const call = (method: Method, url: string, who: SignedIn, payload?: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method, url, headers: { ...who.auth, ...headers }, ...(payload !== undefined ? { payload: payload as object } : {}) });
const importBody = (body: unknown, who: SignedIn = alice, headers: Record<string, string> = {}) => call('POST', '/chatroom/import', who, body, headers);

async function finish(replyId: string, content: string, extra: Record<string, unknown> = {}) {
  await t.db.updateTable('message').set({ status: 'completed', content, completed_at: new Date(), ...extra }).where('id', '=', replyId).execute();
}
async function exchange(roomId: string, content: string, answer: string, options: { parentId?: string | null; attachments?: string[] } = {}) {
  const res = await call('POST', `/chatroom/${roomId}/message`, alice, { content, ...options });
  expect(res.statusCode).toBe(202);
  await finish(res.json().reply.id, answer);
  return { prompt: res.json().userMessage.id as string, reply: res.json().reply.id as string };
}

/** A chatroom with three branches: an edited second prompt, and a regenerated reply under the edit. */
async function branchyChatroom() {
  const room = (await call('POST', '/chatroom', alice, { title: 'Tea / coffee: "notes"', systemPrompt: 'Be brief.', settings: { temperature: 0.5 } })).json();
  const upload = fileUpload(pngFixture(), 'cup.png');
  const file = (await t.app.inject({ method: 'POST', url: '/files', payload: upload.payload, headers: { ...alice.auth, ...upload.headers } })).json();
  const first = await exchange(room.id, 'Green or black?', 'Green.', { attachments: [file.id] });
  await exchange(room.id, 'Why green?', 'Less caffeine.');
  const edited = await exchange(room.id, 'Why not black?', 'Too strong.', { parentId: first.reply });
  const regenerated = await call('POST', `/chatroom/${room.id}/messages/${edited.reply}/regenerate`, alice, {});
  expect(regenerated.statusCode).toBe(202);
  const again = regenerated.json().reply.id as string;
  await finish(again, 'It is fine, in moderation.', {
    thoughts: 'Weigh both.',
    citations: JSON.stringify([{ uri: 'https://example.com/tea', title: 'example.com', startIndex: 0, endIndex: 5 }]),
    input_tokens: 12,
    output_tokens: 7,
    thinking_tokens: 3,
  });
  // Look at the edited branch's first reply: the current branch is not simply the newest one.
  expect((await call('PATCH', `/chatroom/${room.id}`, alice, { currentMessageId: edited.reply })).statusCode).toBe(200);
  return { id: room.id as string, file: file.id as string, first, edited, again };
}

/** An export with ids replaced by positions, and the time of export left out: what must survive a round trip. */
function shape(file: { exportedAt: string; chatroom: { currentMessageId: string | null }; messages: Array<{ id: string; parentId: string | null }> }) {
  const position = new Map(file.messages.map((m, i) => [m.id, i]));
  return {
    chatroom: { ...file.chatroom, currentMessageId: file.chatroom.currentMessageId && position.get(file.chatroom.currentMessageId) },
    messages: file.messages.map((m) => ({ ...m, id: position.get(m.id), parentId: m.parentId && position.get(m.parentId) })),
  };
}

describe('GET /chatroom/:id/export', () => {
  it('answers 404 to another user, exactly as for a missing chatroom', async () => {
    const room = await branchyChatroom();
    expectProblem(await call('GET', `/chatroom/${room.id}/export`, bob), 404, 'CHATROOM_NOT_FOUND');
    expectProblem(await call('GET', `/chatroom/${room.id}/export?format=markdown`, bob), 404, 'CHATROOM_NOT_FOUND');
    expectProblem(await call('GET', `/chatroom/${randomUUID()}/export`, alice), 404, 'CHATROOM_NOT_FOUND');
  });

  it('exports every branch as a download named after the title', async () => {
    const room = await branchyChatroom();
    const res = await call('GET', `/chatroom/${room.id}/export`, alice);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    // The title's slash, colon and quotes never reach the file name.
    expect(res.headers['content-disposition']).toBe('attachment; filename="Tea coffee notes.json"');
    const file = res.json();
    expect(file).toMatchObject({ format: 'gemini-chat.chatroom', version: 1, chatroom: { title: 'Tea / coffee: "notes"', systemPrompt: 'Be brief.', settings: { temperature: 0.5 }, currentMessageId: room.edited.reply } });
    expect(file.messages).toHaveLength(7); // three prompts, their three replies, one regenerated reply
    expect(file.messages[0]).toMatchObject({ role: 'user', content: 'Green or black?', parentId: null, attachments: [{ id: room.file, name: 'cup.png', mimeType: 'image/png', deleted: false }] });
    expect(file.messages[0].attachments[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(file.messages.find((m: { id: string }) => m.id === room.again)).toMatchObject({
      parentId: room.edited.prompt,
      thoughts: 'Weigh both.',
      usage: { inputTokens: 12, outputTokens: 7, thinkingTokens: 3 },
      citations: [{ uri: 'https://example.com/tea', startIndex: 0, endIndex: 5 }],
    });
  });

  it('renders the current branch alone as Markdown', async () => {
    const room = await branchyChatroom();
    const res = await call('GET', `/chatroom/${room.id}/export?format=markdown`, alice);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="Tea coffee notes.md"');
    const text = res.body;
    expect(text.startsWith('# Tea / coffee: "notes"\n')).toBe(true);
    expect(text).toContain('## User\n\nGreen or black?');
    expect(text).toContain('- cup.png (image/png)');
    expect(text).toContain('## User\n\nWhy not black?');
    expect(text).toContain('Too strong.');
    // Other branches are not in it.
    expect(text).not.toContain('Why green?');
    expect(text).not.toContain('in moderation');
    expect(text.match(/^## User$/gm)).toHaveLength(2);
    expect(text.match(/^## Assistant/gm)).toHaveLength(2);
  });
});

describe('POST /chatroom/import', () => {
  it('gives back an identical chatroom from its export (new ids), listed at once', async () => {
    const room = await branchyChatroom();
    const exported = (await call('GET', `/chatroom/${room.id}/export`, alice)).json();
    // Warm the list cache: the import must show through it.
    const before = (await call('GET', '/chatroom?limit=100', alice)).json().items.length;

    const res = await importBody(exported);
    expect(res.statusCode).toBe(201);
    expect(res.json().skipped).toEqual([]);
    const [created] = res.json().chatrooms;
    expect(created).toMatchObject({ title: 'Tea / coffee: "notes"', messageCount: 7 });
    expect(created.id).not.toBe(room.id);

    const again = (await call('GET', `/chatroom/${created.id}/export`, alice)).json();
    expect(again.messages.map((m: { id: string }) => m.id)).not.toContain(room.first.prompt);
    expect(shape(again)).toEqual(shape(exported));
    const list = (await call('GET', '/chatroom?limit=100', alice)).json().items;
    expect(list).toHaveLength(before + 1);
    expect(list.map((c: { id: string }) => c.id)).toContain(created.id);
    // The branch switcher sees the same tree: the edited prompt has its sibling, the regenerated reply its own.
    const branch = (await call('GET', `/chatroom/${created.id}/messages`, alice)).json().items;
    expect(branch.map((m: { content: string }) => m.content)).toEqual(['Too strong.', 'Why not black?', 'Green.', 'Green or black?']);
    expect(branch[0].siblings).toMatchObject({ index: 1, count: 2 });
    expect(branch[1].siblings).toMatchObject({ index: 2, count: 2 });
  });

  it('does not attach another user\'s file named in an export: it is reported instead', async () => {
    const room = await branchyChatroom();
    const exported = (await call('GET', `/chatroom/${room.id}/export`, alice)).json();
    const res = await importBody(exported, bob);
    expect(res.statusCode).toBe(201);
    expect(res.json().skipped).toEqual([{ conversation: 0, nodeId: room.first.prompt, reason: expect.stringContaining('"cup.png"') }]);
    const copy = (await call('GET', `/chatroom/${res.json().chatrooms[0].id}/export`, bob)).json();
    expect(copy.messages[0].attachments).toEqual([]);
    expect(copy.messages[0].content).toBe('Green or black?');
  });

  it('imports a ChatGPT conversations.json: branches kept, system, tool and non-text parts left out and reported', async () => {
    const res = await importBody(chatGptExport);
    expect(res.statusCode).toBe(201);
    const { chatrooms, skipped } = res.json();
    expect(chatrooms).toEqual([
      { id: expect.any(String), title: 'Tea advice', messageCount: 6 },
      { id: expect.any(String), title: 'Imported chat', messageCount: 2 },
    ]);
    expect(skipped).toEqual(
      expect.arrayContaining([
        { conversation: 0, nodeId: 'sys', reason: 'a system message' },
        { conversation: 0, nodeId: 'ctx', reason: 'user_editable_context content' },
        { conversation: 0, nodeId: 'u3', reason: 'a image_asset_pointer part (the text was imported)' },
        { conversation: 0, nodeId: 'a3code', reason: 'a message addressed to the tool python' },
        { conversation: 0, nodeId: 'tool1', reason: 'a tool message' },
        { conversation: 1, nodeId: 's1', reason: 'a system message' },
      ]),
    );
    expect(skipped).toHaveLength(6);

    const [tea, untitled] = chatrooms;
    const file = (await call('GET', `/chatroom/${tea.id}/export`, alice)).json();
    const byContent = new Map(file.messages.map((m: { content: string }) => [m.content, m]));
    const parentOf = (content: string) => file.messages.find((m: { id: string }) => m.id === (byContent.get(content) as { parentId: string }).parentId)?.content;
    expect(file.messages.map((m: { role: string; content: string; status: string }) => [m.role, m.content, m.status])).toEqual([
      ['user', 'Green or black tea?', 'completed'],
      ['assistant', 'Green.', 'completed'],
      ['user', 'And with milk?', 'completed'],
      ['assistant', 'Black, then.', 'completed'],
      ['user', 'What about oolong?\n\nThis photo is of my cup.', 'completed'],
      ['assistant', 'Oolong works with milk too.', 'completed'],
    ]);
    // The edited prompt: two prompts under the same reply. The tool round trip is bridged: the final answer follows
    // the prompt. The current node (a tool call's output) becomes its nearest imported ancestor.
    expect(parentOf('And with milk?')).toBe('Green.');
    expect(parentOf('What about oolong?\n\nThis photo is of my cup.')).toBe('Green.');
    expect(parentOf('Oolong works with milk too.')).toBe('What about oolong?\n\nThis photo is of my cup.');
    expect((byContent.get('Oolong works with milk too.') as { id: string }).id).toBe(file.chatroom.currentMessageId);
    expect(byContent.get('Green.')).toMatchObject({ model: 'gpt-4o', createdAt: '2026-01-01T00:00:05.000Z' });
    expect(file.chatroom.createdAt).toBe('2026-01-01T00:00:00.500Z');

    const second = (await call('GET', `/chatroom/${untitled.id}/messages`, alice)).json().items;
    expect(second.map((m: { content: string }) => m.content)).toEqual(['Hi there.\n\nHow can I help?', 'Hello']);
  });

  it('is idempotent with an Idempotency-Key: a replay gives the same chatrooms, another body 422', async () => {
    const key = randomUUID();
    const first = await importBody(chatGptExport, alice, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    const count = (await call('GET', '/chatroom?limit=100', alice)).json().items.length;
    const replay = await importBody(chatGptExport, alice, { 'idempotency-key': key });
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(first.json());
    expect((await call('GET', '/chatroom?limit=100', alice)).json().items).toHaveLength(count);
    expectProblem(await importBody([chatGptExport[1]], alice, { 'idempotency-key': key }), 422, 'IDEMPOTENCY_KEY_REUSED');
    // Keys are per user: bob's same key imports his own copy.
    const bobs = await importBody(chatGptExport, bob, { 'idempotency-key': key });
    expect(bobs.statusCode).toBe(201);
    expect(bobs.headers['idempotent-replayed']).toBeUndefined();
  });

  it('refuses malformed files with a clear 400, and stores nothing of a file that fails part-way', async () => {
    const room = await branchyChatroom();
    const exported = (await call('GET', `/chatroom/${room.id}/export`, alice)).json();
    const count = async () => (await t.db.selectFrom('chatroom').select(t.db.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n;
    const start = await count();

    expectProblem(await importBody({ hello: 'world' }), 400, 'IMPORT_FORMAT_UNKNOWN');
    expectProblem(await importBody([]), 400, 'VALIDATION_FAILED');
    const noMapping = expectProblem(await importBody([{ title: 'x' }]), 400, 'VALIDATION_FAILED');
    expect(noMapping.errors).toEqual([{ in: 'body', field: '0.mapping', message: 'is required' }]);
    const badRole = expectProblem(await importBody({ ...exported, messages: [{ ...exported.messages[0], role: 'system' }] }), 400, 'VALIDATION_FAILED');
    expect(badRole.errors.map((e: { field: string }) => e.field)).toContain('messages.0.role');
    expectProblem(await importBody({ ...exported, version: 2 }), 400, 'VALIDATION_FAILED');
    const orphan = expectProblem(await importBody({ ...exported, messages: exported.messages.slice(1) }), 400, 'IMPORT_INVALID');
    expect(orphan.errors).toEqual([{ in: 'body', field: 'messages.0.parentId', message: 'names no earlier message of the file' }]);
    const twice = expectProblem(await importBody({ ...exported, messages: [exported.messages[0], exported.messages[0]] }), 400, 'IMPORT_INVALID');
    expect(twice.errors[0].field).toBe('messages.1.id');
    expectProblem(await importBody({ ...exported, messages: [{ ...exported.messages[1], parentId: null }] }), 400, 'IMPORT_INVALID');
    expectProblem(await importBody({ ...exported, chatroom: { ...exported.chatroom, currentMessageId: 'nope' } }), 400, 'IMPORT_INVALID');
    // The second conversation holds text Postgres cannot store: the first, already written, is rolled back with it.
    const nul = structuredClone(chatGptExport[1]);
    (nul!.mapping.u1!.message!.content as { parts: string[] }).parts = ['bad \u0000 text'];
    expectProblem(await importBody([chatGptExport[0], nul]), 400, 'VALIDATION_FAILED');
    await expect(t.app.inject({ method: 'POST', url: '/chatroom/import', headers: { ...alice.auth, 'content-type': 'application/json' }, payload: '{"format":' })).resolves.toMatchObject({ statusCode: 400 });
    expect(await count()).toBe(start);
  });

  it('takes bodies above the general body limit, and answers 413 above IMPORT_MAX_BYTES', async () => {
    const big = (size: number) => [{ title: 'Big', mapping: { u: { parent: null, children: [], message: { author: { role: 'user' }, content: { content_type: 'text', parts: ['x'.repeat(size)] } } } } }];
    const accepted = await importBody(big(200 * 1024)); // above the 64 kB default of other routes
    expect(accepted.statusCode).toBe(201);
    expectProblem(await importBody(big(IMPORT_MAX_BYTES)), 413, 'PAYLOAD_TOO_LARGE');
    // Other routes keep the general limit.
    expectProblem(await call('POST', '/chatroom', alice, { title: 'x'.repeat(100 * 1024) }), 413, 'PAYLOAD_TOO_LARGE');
  });
});

describe('GET /user/me/export and POST /chatroom/import', () => {
  it('gives back an identical chatroom from an account export: tree, contents and current branch', async () => {
    const room = await branchyChatroom();
    const owns = (file: { messages: Array<{ id: string }> }, id: string) => file.messages.some((m) => m.id === id);
    const account = (await call('GET', '/user/me/export', alice)).json();
    const exported = account.chatrooms.find((file: { messages: Array<{ id: string }> }) => owns(file, room.first.prompt));
    // Nothing of another user's comes with it, and an account export holds the same document as the chatroom's own.
    expect(account.chatrooms.every((file: { format: string }) => file.format === 'gemini-chat.chatroom')).toBe(true);
    expect(shape(exported)).toEqual(shape((await call('GET', `/chatroom/${room.id}/export`, alice)).json()));

    const res = await importBody(exported);
    expect(res.statusCode).toBe(201);
    expect(res.json().skipped).toEqual([]);
    const [created] = res.json().chatrooms;
    expect(created).toMatchObject({ title: 'Tea / coffee: "notes"', messageCount: 7 });

    // The copy, as the next account export holds it (found by the new ids of its messages).
    const newIds = (await call('GET', `/chatroom/${created.id}/export`, alice)).json().messages.map((m: { id: string }) => m.id);
    const again = (await call('GET', '/user/me/export', alice)).json();
    const copy = again.chatrooms.find((file: { messages: Array<{ id: string }> }) => owns(file, newIds[0]));
    expect(copy).toBeDefined();
    expect(shape(copy)).toEqual(shape(exported));
    const branch = (await call('GET', `/chatroom/${created.id}/messages`, alice)).json().items;
    expect(branch.map((m: { content: string }) => m.content)).toEqual(['Too strong.', 'Why not black?', 'Green.', 'Green or black?']);
  });

  it('holds none of another user\'s chatrooms', async () => {
    const room = await branchyChatroom();
    const res = await call('GET', '/user/me/export', bob);
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(room.id);
    expect(res.body).not.toContain(room.first.prompt);
    expect(res.body).not.toContain(room.file);
  });
});

interface Node {
  id: string;
  parent: string | null;
  children: string[];
  message: null | { id: string; author: { role: string; name: null; metadata: object }; create_time: number | null; content: object; status: string; recipient?: string; metadata?: object };
}
function node(id: string, parent: string | null, children: string[], role: string | null, content?: object, extra: Record<string, unknown> = {}, time?: number): Node {
  return {
    id,
    parent,
    children,
    message: role === null
      ? null
      : { id, author: { role, name: null, metadata: {} }, create_time: time ?? null, content: content!, status: 'finished_successfully', recipient: 'all', metadata: {}, ...extra },
  };
}
const text = (...parts: string[]) => ({ content_type: 'text', parts });
const T0 = 1767225600; // 2026-01-01T00:00:00Z

/**
 * A ChatGPT export as its archives hold them: a root without a message, a hidden system message and the custom
 * instructions node, an edited prompt (two prompts under one reply), an image beside text, a code interpreter
 * round trip (a call to python, the tool's output, the final answer), and a second conversation without a title.
 */
const chatGptExport = [
  {
    title: 'Tea advice',
    create_time: T0 + 0.5,
    update_time: T0 + 100,
    conversation_id: 'c1',
    default_model_slug: 'gpt-4o',
    is_archived: false,
    current_node: 'tool1out',
    mapping: Object.fromEntries(
      [
        node('client-created-root', null, ['sys'], null),
        node('sys', 'client-created-root', ['ctx'], 'system', text(''), { metadata: { is_visually_hidden_from_conversation: true } }),
        node('ctx', 'sys', ['u1'], 'user', { content_type: 'user_editable_context', user_profile: 'I like tea', user_instructions: '' }),
        node('u1', 'ctx', ['a1'], 'user', text('Green or black tea?'), {}, T0 + 1),
        node('a1', 'u1', ['u2', 'u3'], 'assistant', text('Green.'), { metadata: { model_slug: 'gpt-4o' } }, T0 + 5),
        node('u2', 'a1', ['a2'], 'user', text('And with milk?'), {}, T0 + 10),
        node('a2', 'u2', [], 'assistant', text('Black, then.'), { metadata: { model_slug: 'gpt-4o' } }, T0 + 12),
        node('u3', 'a1', ['a3code'], 'user', {
          content_type: 'multimodal_text',
          parts: [{ content_type: 'image_asset_pointer', asset_pointer: 'file-service://file-abc', width: 640, height: 480 }, 'What about oolong?', 'This photo is of my cup.'],
        }, {}, T0 + 20),
        node('a3code', 'u3', ['tool1'], 'assistant', { content_type: 'code', language: 'python', text: 'print(1)' }, { recipient: 'python' }, T0 + 21),
        node('tool1', 'a3code', ['a3'], 'tool', { content_type: 'execution_output', text: '1' }, { author: { role: 'tool', name: 'python', metadata: {} } }, T0 + 22),
        node('a3', 'tool1', ['tool1out'], 'assistant', text('Oolong works with milk too.'), { metadata: { model_slug: 'gpt-4o' } }, T0 + 23),
        node('tool1out', 'a3', [], null),
      ].map((n) => [n.id, n]),
    ),
  },
  {
    title: null,
    create_time: T0 + 1000,
    current_node: 'a1b',
    mapping: Object.fromEntries(
      [
        node('r', null, ['s1'], null),
        node('s1', 'r', ['u1'], 'system', text('You are ChatGPT.')),
        node('u1', 's1', ['a1'], 'user', text('Hello'), {}, T0 + 1001),
        // Two assistant messages in a row on one branch read as one reply.
        node('a1', 'u1', ['a1b'], 'assistant', text('Hi there.'), {}, T0 + 1002),
        node('a1b', 'a1', [], 'assistant', text('How can I help?'), {}, T0 + 1003),
      ].map((n) => [n.id, n]),
    ),
  },
];
