import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countIo, signIn, startStack, waitFor, type IoCounter, type SignedIn, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '../src/worker.js';

// What one prompt costs from the send to its completed reply, API and worker together: Postgres transactions
// (the send's, the worker's claim with the reply's context, its completion, and the waiting request's final read)
// and the live log's appends. Periodic work (sweeps) is pushed out of the way so that only the prompt is counted.
const PG_TRANSACTIONS_PER_PROMPT = 4;

let s: Stack;
let user: SignedIn;
let io: IoCounter;
beforeAll(async () => {
  s = await startStack(
    { QUOTA_BASIC_DAILY: '0', SWEEP_INTERVAL_MS: '600000', REPLY_DELTA_FLUSH_MS: '1000', FAKE_GEMINI_CHUNK_DELAY_MS: '0' },
    { startWorker },
  );
  user = await signIn(s.app);
  io = countIo();
});
afterAll(async () => {
  io.stop();
  await s.close();
});

// A user title: no automatic-title job joins the queue (its I/O is not the prompt's).
const createRoom = async () => (await s.app.inject({ method: 'POST', url: '/chatroom', payload: { title: 'Room' }, headers: user.auth })).json().id as string;

async function ask(roomId: string, content: string) {
  const res = await s.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content }, headers: { ...user.auth, prefer: 'wait=20' } });
  expect(res.statusCode).toBe(200);
  return res.json() as { reply: { id: string; status: string; content: string } };
}

describe('the cost of a prompt, send to completed reply', () => {
  beforeAll(async () => {
    await ask(await createRoom(), 'warm-up'); // scripts loaded, pool connections open
  });

  it(`is at most ${PG_TRANSACTIONS_PER_PROMPT} Postgres transactions, with the reply's deltas coalesced`, async () => {
    for (let i = 0; i < 3; i++) {
      const roomId = await createRoom();
      // The first prompt of a chatroom and a follow-up (with history to read) cost the same.
      for (const content of ['First [[chunks:12]]', 'Second [[chunks:12]]']) {
        io.reset();
        const { reply } = await ask(roomId, content);
        const cost = io.read();
        expect(reply.status).toBe('completed');
        expect(cost.pgTransactions, JSON.stringify(cost)).toBeLessThanOrEqual(PG_TRANSACTIONS_PER_PROMPT);
        // Twelve chunks within one flush window: the first at once (time to first token), the other eleven in one
        // append, then the done event. With the quota charge and the log's claim, five scripts in all; one append
        // per chunk made it fifteen.
        expect(cost.redisCommands.eval, JSON.stringify(cost)).toBeLessThanOrEqual(5);
        expect(reply.content.length).toBeGreaterThan(0);
      }
    }
  });

  it('in a chatroom still titled by default too (whether its title is due is read in the completion)', async () => {
    const roomId = (await s.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: user.auth })).json().id as string;
    await ask(roomId, 'First'); // earns the chatroom its title: a job of its own, not counted
    await waitFor(async () => (await s.db.selectFrom('chatroom').select('title_source').where('id', '=', roomId).executeTakeFirstOrThrow()).title_source !== 'default');
    io.reset();
    const { reply } = await ask(roomId, 'Second');
    const cost = io.read();
    expect(reply.status).toBe('completed');
    expect(cost.pgTransactions, JSON.stringify(cost)).toBeLessThanOrEqual(PG_TRANSACTIONS_PER_PROMPT);
  });
});
