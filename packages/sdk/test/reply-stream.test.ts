import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, memoryTokenStore, type ReplyEvent, type ThoughtEvent } from '../src/index.js';

// The stream reader against a tiny local SSE server: events the live API does not send (yet), and how a newer
// server's unknown event types are handled.

const ROOM = '11111111-1111-4111-8111-111111111111';
const REPLY = '22222222-2222-4222-8222-222222222222';
const message = { id: REPLY, chatroomId: ROOM, role: 'assistant', status: 'completed', content: 'Hi there' };

let server: Server;
let baseUrl: string;
/** What the next stream request answers, after the `Last-Event-ID` it sent. */
let answer: (lastEventId: string | undefined) => string;
const requests: Array<string | undefined> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const lastEventId = req.headers['last-event-id'] as string | undefined;
    requests.push(lastEventId);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.end(answer(lastEventId));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const sse = (id: string, event: string, data: unknown) => `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
async function collect(stream: AsyncIterable<ReplyEvent>) {
  const events: ReplyEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}
const client = () => createClient({ baseUrl, tokenStore: memoryTokenStore({ accessToken: 'a', refreshToken: 'r' }) });

describe('streamReply', () => {
  const withThoughts = () =>
    ': keep-alive\n\n' +
    sse('1-0', 'thought', { text: 'The user greets me. ' }) +
    sse('2-0', 'citation', { uri: 'https://example.com' }) +
    sse('3-0', 'delta', { text: 'Hi ' }) +
    'id: 4-0\nevent: delta\ndata: not json\n\n' +
    sse('5-0', 'delta', { text: 'there' }) +
    sse('6-0', 'done', message);
  const reply = [
    { type: 'delta', id: '3-0', text: 'Hi ' },
    { type: 'delta', id: '5-0', text: 'there' },
    { type: 'done', id: '6-0', message },
  ];

  it('yields thought events when asked to, and skips event types it does not know', async () => {
    answer = withThoughts;
    requests.length = 0;
    const events: Array<ReplyEvent | ThoughtEvent> = [];
    for await (const event of client().streamReply(ROOM, REPLY, { thoughts: true })) events.push(event);
    expect(events).toEqual([{ type: 'thought', id: '1-0', text: 'The user greets me. ' }, ...reply]);
    expect(requests).toEqual([undefined]);
  });

  it('skips thought events by default, so code written for ReplyEvent keeps working', async () => {
    answer = withThoughts;
    expect(await collect(client().streamReply(ROOM, REPLY))).toEqual(reply);
  });

  it('resumes after an unknown event that was the last one received', async () => {
    answer = (after) =>
      after === undefined
        ? sse('1-0', 'delta', { text: 'Hi ' }) + sse('2-0', 'something-new', {}) // the connection ends here
        : sse('3-0', 'delta', { text: 'there' }) + sse('4-0', 'done', message);
    requests.length = 0;
    const events = await collect(client().streamReply(ROOM, REPLY, { retryDelayMs: 1 }));
    expect(events.map((e) => e.id)).toEqual(['1-0', '3-0', '4-0']);
    expect(requests).toEqual([undefined, '2-0']);
  });
});
