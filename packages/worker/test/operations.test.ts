import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAME, bullPrefix } from '@gemini-chat/shared';
import { signIn, startStack, waitFor, type SignedIn, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '../src/worker.js';

let s: Stack;
let user: SignedIn;
beforeAll(async () => {
  s = await startStack({ QUOTA_BASIC_DAILY: '1', SWEEP_INTERVAL_MS: '200', SWEEP_PENDING_AFTER_SECONDS: '1' }, { startWorker, worker: false });
  user = await signIn(s.app);
});
afterAll(() => s.close());

const statusOf = async (id: string) => (await s.db.selectFrom('message').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

describe('the sweeper', () => {
  it('enqueues a stored reply whose job was lost, and the reply completes', async () => {
    const roomId = (await s.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: user.auth })).json().id;
    const replyId = (await s.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content: 'lost job' }, headers: user.auth })).json().reply.id;
    // Lose the job, as a Redis without persistence would after a restart.
    const connection = new Redis(s.config.redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection, prefix: bullPrefix(s.config.redis.keyPrefix) });
    expect(await queue.remove(`reply-${replyId}`)).toBe(1);
    await queue.close();
    await connection.quit();

    await s.startWorker();
    await waitFor(async () => (await statusOf(replyId)) === 'completed', 15_000, 100);
  });
});

describe('metrics', () => {
  it('the API and the worker expose Prometheus metrics for HTTP, queue, Gemini and quota', async () => {
    const roomId = (await s.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: user.auth })).json().id;
    // The quota (1 a day) was used above: this send is rejected and counted.
    expect((await s.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content: 'over' }, headers: user.auth })).statusCode).toBe(429);

    const api = (await s.app.inject({ url: '/metrics' })).body;
    expect(api).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/chatroom\/:id\/message"/);
    expect(api).toMatch(/quota_rejections_total 1/);
    expect(api).toMatch(/queue_jobs\{state="waiting"\} \d+/);

    const worker = await (await fetch(`${s.worker!.metricsUrl}/metrics`)).text();
    expect(worker).toMatch(/replies_total\{status="completed"\} [1-9]/);
    expect(worker).toMatch(/gemini_time_to_first_token_seconds_count [1-9]/);
    expect(worker).toMatch(/gemini_request_duration_seconds_count\{outcome="ok"\} [1-9]/);
    expect(worker).toMatch(/job_duration_seconds_count\{job="generate-reply",outcome="completed"\} [1-9]/);
    expect(worker).toMatch(/job_queue_wait_seconds_count\{job="generate-reply"\} [1-9]/);
    expect(worker).toMatch(/gemini_tokens_total\{direction="output"\} [1-9]/);
  });
});
