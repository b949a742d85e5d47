import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startStack, waitFor, type SignedIn, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '../src/worker.js';

// Conversations are trees: what the model is sent for an edit, a regenerate of an older reply, a branch switch and
// a fork, through the real worker and the fake Gemini (which records every request).

interface Message {
  id: string;
  role: 'user' | 'assistant';
  status: string;
  content: string;
  parentId: string | null;
  siblings: { index: number; count: number; previousId: string | null; nextId: string | null };
}

let s: Stack;
let user: SignedIn;
beforeAll(async () => {
  s = await startStack({ QUOTA_BASIC_DAILY: '0' }, { startWorker });
  user = await signIn(s.app);
});
afterAll(() => s.close());

const inject = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
  s.app.inject({ method, url, headers: { ...user.auth, prefer: 'wait=20' }, ...(payload ? { payload } : {}) });

/** Runs a send or regenerate to the end; returns the prompt and its finished reply. */
async function finished(res: Awaited<ReturnType<typeof inject>>): Promise<{ prompt: Message; reply: Message }> {
  expect([200, 202]).toContain(res.statusCode);
  const body = res.json() as { userMessage: Message; reply: Message; links: { reply: string } };
  const reply = await waitFor(async () => {
    const now = (await inject('GET', body.links.reply)).json() as Message;
    return now.status === 'completed' ? now : undefined;
  });
  return { prompt: body.userMessage, reply };
}
const askNow = async (roomId: string, content: string, parentId?: string | null) =>
  finished(await inject('POST', `/chatroom/${roomId}/message`, { content, ...(parentId !== undefined ? { parentId } : {}) }));
const regenerate = async (roomId: string, replyId: string) => finished(await inject('POST', `/chatroom/${roomId}/messages/${replyId}/regenerate`));
const branch = async (roomId: string, leafId?: string) =>
  (await inject('GET', `/chatroom/${roomId}/messages?limit=100${leafId ? `&leafId=${leafId}` : ''}`)).json().items as Message[];

/** The turns of the model's last reply request: [role, text] in order. */
function lastModelTurns(): Array<[string, string]> {
  const call = s.gemini.requests.filter((r) => r.action === 'streamGenerateContent').at(-1)!;
  const body = call.body as { contents: Array<{ role: string; parts: Array<{ text: string }> }> };
  return body.contents.map((c) => [c.role, c.parts.map((p) => p.text).join('')]);
}
const turnsOf = (path: Message[]): Array<[string, string]> => path.map((m) => [m.role === 'user' ? 'user' : 'model', m.content]);

describe('edit, switch, regenerate an older reply, fork', () => {
  it('runs the five-turn story end to end, the model seeing exactly the branch each time', async () => {
    const room = (await inject('POST', '/chatroom', { title: 'Story' })).json().id as string;
    const turns: Array<{ prompt: Message; reply: Message }> = [];
    for (let i = 1; i <= 5; i++) turns.push(await askNow(room, `Turn ${i}`));
    const original = await branch(room);
    expect(original).toHaveLength(10);
    const [t1, t2, t3, , t5] = turns as [(typeof turns)[0], (typeof turns)[0], (typeof turns)[0], (typeof turns)[0], (typeof turns)[0]];

    // Edit the 2nd prompt: same parent as the prompt edited. The reply saw only the first turn.
    expect(t2.prompt.parentId).toBe(t1.reply.id);
    const edit = await askNow(room, 'Turn 2, edited', t2.prompt.parentId);
    expect(lastModelTurns()).toEqual([...turnsOf([t1.prompt, t1.reply]), ['user', 'Turn 2, edited']]);
    expect(edit.prompt.siblings).toEqual({ index: 2, count: 2, previousId: t2.prompt.id, nextId: null });
    const edited = await branch(room);
    expect(edited.map((m) => m.id)).toEqual([edit.reply.id, edit.prompt.id, t1.reply.id, t1.prompt.id]);
    expect((await inject('GET', `/chatroom/${room}`)).json()).toMatchObject({ currentMessageId: edit.reply.id, hasMoreMessages: false });

    // Switch back by naming the sibling prompt: its newest leaf becomes current, and the branch is intact.
    const switched = await inject('PATCH', `/chatroom/${room}`, { currentMessageId: edit.prompt.siblings.previousId });
    expect(switched.json().currentMessageId).toBe(t5.reply.id);
    expect(await branch(room)).toEqual(original.map((m) => (m.id === t2.prompt.id ? { ...m, siblings: { index: 1, count: 2, previousId: null, nextId: edit.prompt.id } } : m)));
    // The other branch is still listable by leaf.
    expect((await branch(room, edit.reply.id)).map((m) => m.id)).toEqual(edited.map((m) => m.id));

    // Regenerate an older reply (the 3rd): a sibling under the 3rd prompt; the model saw turns 1-2 and the prompt.
    const again = await regenerate(room, t3.reply.id);
    expect(again.reply).toMatchObject({ parentId: t3.prompt.id, siblings: { index: 2, count: 2, previousId: t3.reply.id, nextId: null } });
    expect(lastModelTurns()).toEqual(turnsOf([t1.prompt, t1.reply, t2.prompt, t2.reply, t3.prompt]));
    expect((await branch(room)).map((m) => m.id)).toEqual([again.reply.id, t3.prompt.id, t2.reply.id, t2.prompt.id, t1.reply.id, t1.prompt.id]);
    expect((await inject('GET', `/chatroom/${room}/latest`)).json().id).toBe(again.reply.id);

    // Switch to the original leaf and continue it: the model sees the whole original path, nothing of the rest.
    await inject('PATCH', `/chatroom/${room}`, { currentMessageId: t5.reply.id });
    const sixth = await askNow(room, 'Turn 6');
    expect(lastModelTurns()).toEqual([...turnsOf([...original].reverse()), ['user', 'Turn 6']]);
    expect(sixth.prompt.parentId).toBe(t5.reply.id);

    // Fork from the middle (the 2nd reply): a new chatroom with copies of turns 1-2, continued on its own.
    const forkRes = await inject('POST', `/chatroom/${room}/fork`, { messageId: t2.reply.id });
    expect(forkRes.statusCode).toBe(201);
    const fork = forkRes.json();
    expect(fork).toMatchObject({ title: 'Story (fork)', hasMoreMessages: false });
    expect(fork.messages.map((m: Message) => [m.role, m.content, m.status])).toEqual(
      [t2.reply, t2.prompt, t1.reply, t1.prompt].map((m) => [m.role, m.content, m.status]),
    );
    expect(fork.messages.map((m: Message) => m.id)).not.toContain(t2.reply.id);
    expect(fork.currentMessageId).toBe(fork.messages[0].id);
    const list = (await inject('GET', '/chatroom')).json().items as Array<{ id: string }>;
    expect(list.map((r) => r.id)).toContain(fork.id);
    await askNow(fork.id, 'Turn 3 in the fork');
    expect(lastModelTurns()).toEqual([...turnsOf([t1.prompt, t1.reply, t2.prompt, t2.reply]), ['user', 'Turn 3 in the fork']]);
    // The source is untouched by the fork: still on turn 6 of the original branch.
    const source = (await inject('GET', `/chatroom/${room}`)).json();
    expect(source.currentMessageId).toBe(sixth.reply.id);
    expect((await branch(room)).map((m) => m.content)).toEqual([sixth.reply.content, 'Turn 6', ...original.map((m) => m.content)]);
  });

  it('a new first prompt (parentId null) starts a separate root the model sees alone', async () => {
    const room = (await inject('POST', '/chatroom', {})).json().id as string;
    const first = await askNow(room, 'Hello');
    const root = await askNow(room, 'Start over', null);
    expect(root.prompt).toMatchObject({ parentId: null, siblings: { index: 2, count: 2, previousId: first.prompt.id } });
    expect(lastModelTurns()).toEqual([['user', 'Start over']]);
  });
});

