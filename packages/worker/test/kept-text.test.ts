import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse, shownText, signIn, startStack, waitFor, type SignedIn, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '../src/worker.js';

// What a reply that ends early (cancelled, or failed for good) stores must be the text its readers were shown:
// never less, never more.
let s: Stack;
let user: SignedIn;
let base: string;
beforeAll(async () => {
  // One live-log append per model chunk (no coalescing): the worker is appending all the time a cancel takes.
  s = await startStack({ QUOTA_BASIC_DAILY: '0', REPLY_MAX_ATTEMPTS: '1', SSE_HEARTBEAT_SECONDS: '1', REPLY_DELTA_FLUSH_MS: '0' }, { startWorker });
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });
  user = await signIn(s.app);
});
afterAll(() => s.close());

const room = async () => (await s.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: user.auth })).json().id as string;
const send = async (roomId: string, content: string) => {
  const res = await s.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content }, headers: user.auth });
  expect(res.statusCode).toBe(202);
  return res.json() as { reply: { id: string }; links: { stream: string } };
};
const stored = (id: string) => s.db.selectFrom('message').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('cancel racing the worker', () => {
  it('stores exactly the text the stream showed, however many chunks arrive while it cancels', async () => {
    for (let round = 0; round < 3; round++) {
      const roomId = await room();
      const prompt = `Race ${round} [[chunks:600]] [[slow:1 first=1]]`;
      // A long reply in tiny chunks, so the worker is appending all the time the cancel takes.
      s.gemini.addRule({ match: (r) => r.stream && r.lastUserText === prompt, script: { kind: 'reply', text: 'tick tock '.repeat(300) }, times: 1 });
      const sent = await send(roomId, prompt);
      const streaming = readSse(`${base}${sent.links.stream}`, user.auth);
      await waitFor(async () => s.gemini.requests.some((r) => r.lastUserText === prompt && r.eventsSent >= 30), 10_000, 5);

      const res = await s.app.inject({ method: 'POST', url: `/chatroom/${roomId}/messages/${sent.reply.id}/cancel`, headers: user.auth });
      expect(res.statusCode).toBe(200);
      const { events } = await streaming;
      expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'cancelled' } });
      const row = await stored(sent.reply.id);
      expect(row.status).toBe('cancelled');
      expect(row.content.length).toBeGreaterThan(0);
      expect(row.content.length).toBeLessThan(3000); // really cut short
      expect(row.content).toBe(shownText(events));
      expect(res.json().content).toBe(row.content);
      expect(events.at(-1)!.data).toMatchObject({ content: row.content });
    }
  });
});

describe('a reply that fails for good after streaming some text', () => {
  it('keeps that text when the queue gives up on its job (status failed, content = what was streamed, not refunded)', async () => {
    // The database refuses the worker's own final writes (completing, then failing the reply), so the job itself
    // fails and the queue's final-failure path is what ends the reply.
    await sql`create function refuse_final_write() returns trigger language plpgsql as $$ begin raise exception 'injected fault'; end $$`.execute(s.db);
    await sql`create trigger refuse_final_write before update on message for each row
      when (new.status = 'completed' or (new.status = 'failed' and new.error_code is distinct from 'GENERATION_FAILED'))
      execute function refuse_final_write()`.execute(s.db);
    try {
      const roomId = await room();
      const sent = await send(roomId, 'Doomed [[chunks:5]] [[slow:20]]');
      const { events } = await readSse(`${base}${sent.links.stream}`, user.auth);
      const row = await waitFor(async () => {
        const r = await stored(sent.reply.id);
        return r.status === 'failed' ? r : undefined;
      });
      expect(row.error_code).toBe('GENERATION_FAILED');
      expect(shownText(events).length).toBeGreaterThan(0);
      expect(row.content).toBe(shownText(events));
      expect(row.refunded_at).toBeNull();
      expect(events.at(-1)).toMatchObject({ event: 'error', data: { status: 'failed', content: row.content } });
    } finally {
      await sql`drop trigger refuse_final_write on message`.execute(s.db);
      await sql`drop function refuse_final_write()`.execute(s.db);
    }
  });
});
