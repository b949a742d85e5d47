import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultReplyText } from '@gemini-chat/fakes';
import { signIn, startStack, waitFor, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '../src/worker.js';

const WORKER_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** A real worker process, as an operator runs it. */
function spawnWorker(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_MAIN], {
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode ? resolve() : child.once('exit', () => resolve())));

let s: Stack;
const children: ChildProcess[] = [];
beforeAll(async () => {
  s = await startStack({ WORKER_LOCK_DURATION_MS: '1500', QUOTA_BASIC_DAILY: '0' }, { startWorker, worker: false });
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await s.close();
});

describe('a worker killed mid-generation', () => {
  // Two worker processes start from TypeScript source here; on a busy 2-core machine that alone can take 15 s.
  it('has its job taken over by another worker, which produces exactly one complete reply', { timeout: 60_000 }, async () => {
    const user = await signIn(s.app);
    const roomId = (await s.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: user.auth })).json().id;
    const first = spawnWorker(s.env);
    children.push(first);

    // A slow stream (8 chunks, 250 ms apart) so the kill lands mid-reply.
    const prompt = 'Tell me slowly [[chunks:8]] [[slow:250 first=100]]';
    const sent = await s.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content: prompt }, headers: user.auth });
    const replyId = sent.json().reply.id as string;

    await waitFor(async () => s.gemini.requests.some((r) => r.eventsSent >= 2 && r.outcome === 'pending'), 20_000);
    first.kill('SIGKILL');
    await exited(first);
    const partial = await s.db.selectFrom('message').select(['status']).where('id', '=', replyId).executeTakeFirstOrThrow();
    expect(partial.status).toBe('generating');

    const second = spawnWorker(s.env);
    children.push(second);
    const done = await waitFor(
      async () => {
        const row = await s.db.selectFrom('message').selectAll().where('id', '=', replyId).executeTakeFirstOrThrow();
        return row.status === 'completed' ? row : undefined;
      },
      30_000,
      100,
    );

    const expected = defaultReplyText({ contents: [{ role: 'user', parts: [{ text: prompt }] }] });
    expect(done.content).toBe(expected);
    expect(done.attempts).toBe(2);
    const messages = await s.db.selectFrom('message').select(['role', 'status']).where('chatroom_id', '=', roomId).execute();
    expect(messages).toHaveLength(2);
    expect(messages.filter((m) => m.role === 'assistant')).toEqual([{ role: 'assistant', status: 'completed' }]);

    second.kill('SIGTERM');
    await exited(second);
    expect(second.exitCode).toBe(0);
  });
});
