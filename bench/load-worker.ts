// The load generator: a process of its own (forked by bench/run.ts), so its CPU and memory never mix with the
// measured servers'. It receives one LoadSpec over IPC, runs it, and answers with the result (and "marks" at
// moments the parent should snapshot memory, e.g. when every stream is open).
import { Agent } from 'node:http';
import autocannon from 'autocannon';
import { distribution, type Distribution } from './lib/stats.js';
import { jsonRequest, readSse, target } from './lib/sse.js';
import { pool } from './lib/api-client.js';

export interface AutocannonSpec {
  kind: 'autocannon';
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** One path per connection (connection i uses paths[i % length]); else the url's path. */
  paths?: string[];
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Seconds a request may take before autocannon counts a timeout. */
  timeoutSeconds?: number;
  /** Count responses whose JSON body has reply.status !== 'completed' (POST with Prefer: wait). */
  expectCompletedReply?: boolean;
  /** Every request takes the next of `paths` (across connections and runs, warm-up included), instead of one per connection. */
  rotatePaths?: boolean;
  /** Requests per second across all connections (autocannon's overallRate); unset: as fast as answered (closed loop). */
  overallRate?: number;
}

export interface TtftSpec {
  kind: 'ttft';
  api: string;
  token: string;
  chatrooms: string[];
  durationSeconds: number;
  maxSamples: number;
  prompt: string;
}

export interface StreamsSpec {
  kind: 'streams';
  api: string;
  token: string;
  chatrooms: string[];
  prompt: string;
  postConcurrency: number;
  timeoutSeconds: number;
}

export type LoadSpec = AutocannonSpec | TtftSpec | StreamsSpec;

export interface AutocannonOutcome {
  kind: 'autocannon';
  durationSeconds: number;
  ok: number;
  requestsPerSecond: number;
  latencyMs: Distribution;
  /** Socket errors and timeouts. */
  socketErrors: number;
  /** Responses that were not 2xx or 3xx. */
  errorResponses: number;
  statusCodes: Record<string, number>;
  /** With expectCompletedReply: 2xx responses whose reply was not completed. */
  notCompleted: number;
  /** Responses during the warm-up (to relate server-side counters, which see both, to requests). */
  warmupResponses: number;
  loadCpuNote?: string;
}

export interface TtftOutcome {
  kind: 'ttft';
  samples: number;
  errors: number;
  errorExamples: string[];
  /** POST sent → first `event: delta` received. */
  postToFirstDeltaMs: Distribution;
  /** POST sent → 202 received. */
  postMs: Distribution;
  /** 202 received → first delta (stream open, read, first event). */
  streamToFirstDeltaMs: Distribution;
  /** POST sent → `event: done`. */
  postToDoneMs: Distribution;
}

export interface StreamsOutcome {
  kind: 'streams';
  requested: number;
  opened: number;
  peakOpen: number;
  allOpenAfterMs: number | null;
  /** First POST → last POST answered. */
  postedAllAfterMs: number;
  done: number;
  completed: number;
  /** Streams whose deltas, concatenated, equal the content of the `done` event and of GET .../messages/:id. */
  matched: number;
  mismatched: number;
  errors: number;
  errorExamples: string[];
  deltaEvents: number;
  /** First POST → last `done`. */
  totalMs: number;
  /** POST sent → `done`, per stream. */
  postToDoneMs: Distribution;
}

export type LoadOutcome = AutocannonOutcome | TtftOutcome | StreamsOutcome;

export type LoadMessage = { type: 'mark'; label: string } | { type: 'result'; outcome: LoadOutcome } | { type: 'error'; message: string };

const send = (message: LoadMessage) => process.send?.(message);

// The next of `paths` a rotating spec sends to: shared by the warm-up and the measured run, so no path is used twice.
let rotation = 0;

async function runAutocannonOnce(spec: AutocannonSpec, durationSeconds: number, record: boolean) {
  const latencies: number[] = [];
  let notCompleted = 0;
  let next = 0;
  const nextPath = () => spec.paths![rotation++ % spec.paths!.length]!;
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: durationSeconds,
    timeout: spec.timeoutSeconds ?? 10,
    method: spec.method,
    headers: spec.headers,
    ...(spec.body !== undefined ? { body: spec.body } : {}),
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
    ...(spec.paths && spec.rotatePaths
      ? { requests: [{ method: spec.method, headers: spec.headers, ...(spec.body !== undefined ? { body: spec.body } : {}), setupRequest: (request) => ({ ...request, path: nextPath() }) }] }
      : spec.paths
      ? {
          setupClient: (client) => {
            const path = spec.paths![next++ % spec.paths!.length]!;
            // setRequests (not setRequest): the client loops over its request list, which would bring back the default.
            client.setRequests([{ method: spec.method, path, headers: spec.headers, ...(spec.body !== undefined ? { body: spec.body } : {}) }]);
          },
        }
      : {}),
    ...(spec.expectCompletedReply
      ? {
          verifyBody: (body: string) => {
            try {
              const parsed = JSON.parse(body) as { reply?: { status?: string } };
              if (parsed.reply?.status === 'completed') return true;
            } catch {
              // not JSON
            }
            notCompleted++;
            return false;
          },
        }
      : {}),
  });
  if (record) {
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 400) latencies.push(responseTime);
    });
  }
  const result = await instance;
  return { result, latencies, notCompleted };
}

async function runAutocannon(spec: AutocannonSpec): Promise<AutocannonOutcome> {
  let warmupResponses = 0;
  if (spec.warmupSeconds > 0) {
    const warm = await runAutocannonOnce(spec, spec.warmupSeconds, false);
    for (const { count } of Object.values(warm.result.statusCodeStats)) warmupResponses += count;
    // Requests cut by the end of the warm-up may leave work behind (a reply still finishing, its chatroom busy):
    // let it settle.
    await new Promise((resolve) => setTimeout(resolve, spec.expectCompletedReply ? 3000 : 500));
  }
  send({ type: 'mark', label: 'measure-start' });
  const { result, latencies, notCompleted } = await runAutocannonOnce(spec, spec.durationSeconds, true);
  send({ type: 'mark', label: 'measure-end' });
  const statusCodes: Record<string, number> = {};
  let ok = 0;
  let errorResponses = 0;
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
    statusCodes[code] = count;
    const status = Number(code);
    if (status >= 200 && status < 400) ok += count;
    else errorResponses += count;
  }
  return {
    kind: 'autocannon',
    durationSeconds: result.duration,
    ok,
    requestsPerSecond: ok / result.duration,
    latencyMs: distribution(latencies),
    socketErrors: result.errors,
    errorResponses,
    statusCodes,
    notCompleted: spec.expectCompletedReply ? notCompleted : 0,
    warmupResponses,
  };
}

interface SendBody {
  reply: { id: string };
  links: { stream: string };
}

async function runTtft(spec: TtftSpec): Promise<TtftOutcome> {
  const to = target(spec.api);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.chatrooms.length * 2 });
  const auth = { authorization: `Bearer ${spec.token}` };
  const total: number[] = [];
  const post: number[] = [];
  const toFirst: number[] = [];
  const toDone: number[] = [];
  const errorExamples: string[] = [];
  let errors = 0;
  const deadline = performance.now() + spec.durationSeconds * 1000;
  let samples = 0;
  await Promise.all(
    spec.chatrooms.map(async (room, loop) => {
      let n = 0;
      while (performance.now() < deadline && samples < spec.maxSamples) {
        n++;
        try {
          const t0 = performance.now();
          const sent = await jsonRequest<SendBody>(to, agent, 'POST', `/chatroom/${room}/message`, auth, {
            content: `${spec.prompt} ${loop}.${n}`,
          });
          const t1 = performance.now();
          if (sent.status !== 202) throw new Error(`POST answered ${sent.status}`);
          let first: number | undefined;
          let done: number | undefined;
          await readSse(to, agent, sent.body.links.stream, auth, (event) => {
            if (event.event === 'delta' && first === undefined) first = performance.now();
            if (event.event === 'done' || event.event === 'error') done = performance.now();
          });
          if (first === undefined || done === undefined) throw new Error('stream ended without a delta and a done event');
          total.push(first - t0);
          post.push(t1 - t0);
          toFirst.push(first - t1);
          toDone.push(done - t0);
          samples++;
        } catch (err) {
          errors++;
          if (errorExamples.length < 5) errorExamples.push(String(err instanceof Error ? err.message : err));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    }),
  );
  agent.destroy();
  return {
    kind: 'ttft',
    samples,
    errors,
    errorExamples,
    postToFirstDeltaMs: distribution(total),
    postMs: distribution(post),
    streamToFirstDeltaMs: distribution(toFirst),
    postToDoneMs: distribution(toDone),
  };
}

async function runStreams(spec: StreamsSpec): Promise<StreamsOutcome> {
  const to = target(spec.api);
  const postAgent = new Agent({ keepAlive: true, maxSockets: spec.postConcurrency });
  const auth = { authorization: `Bearer ${spec.token}` };
  const requested = spec.chatrooms.length;
  let open = 0;
  let opened = 0;
  let peakOpen = 0;
  let allOpenAfterMs: number | null = null;
  let done = 0;
  let completed = 0;
  let deltaEvents = 0;
  let errors = 0;
  const errorExamples: string[] = [];
  const fail = (err: unknown) => {
    errors++;
    if (errorExamples.length < 5) errorExamples.push(String(err instanceof Error ? err.message : err));
  };
  const started = performance.now();
  let lastDone = started;
  const postToDone: number[] = [];
  const results: Array<{ room: string; replyId: string; text: string; finalContent: string | undefined } | undefined> = [];
  const streams: Promise<void>[] = [];
  const overall = setTimeout(() => {
    fail(new Error(`gave up after ${spec.timeoutSeconds} s`));
    postAgent.destroy();
    process.exitCode = 1;
  }, spec.timeoutSeconds * 1000);

  await pool(requested, spec.postConcurrency, async (i) => {
    const room = spec.chatrooms[i]!;
    const t0 = performance.now();
    let sent: { status: number; body: SendBody };
    try {
      sent = await jsonRequest<SendBody>(to, postAgent, 'POST', `/chatroom/${room}/message`, auth, { content: `stream ${i} ${spec.prompt}` });
      if (sent.status !== 202) throw new Error(`POST answered ${sent.status}`);
    } catch (err) {
      fail(err);
      return;
    }
    const entry = { room, replyId: sent.body.reply.id, text: '', finalContent: undefined as string | undefined };
    results[i] = entry;
    // The stream is read in the background: the pool moves on to the next POST at once.
    streams.push(
      readSse(
        to,
        false,
        sent.body.links.stream,
        auth,
        (event) => {
          if (event.event === 'delta') {
            deltaEvents++;
            entry.text += (JSON.parse(event.data) as { text: string }).text;
          } else if (event.event === 'reset') {
            entry.text = '';
          } else if (event.event === 'done' || event.event === 'error') {
            const message = JSON.parse(event.data) as { status: string; content: string };
            done++;
            if (message.status === 'completed') completed++;
            entry.finalContent = message.content;
            lastDone = performance.now();
            postToDone.push(lastDone - t0);
          }
        },
        () => {
          open++;
          opened++;
          if (open > peakOpen) peakOpen = open;
          if (opened === requested && open === requested) {
            allOpenAfterMs = performance.now() - started;
            send({ type: 'mark', label: 'all-open' });
          }
        },
      )
        .then((status) => {
          if (status !== 200) fail(new Error(`stream answered ${status}`));
        })
        .catch(fail)
        .finally(() => {
          open--;
        }),
    );
  });
  const postedAllAfterMs = performance.now() - started;
  await Promise.all(streams);
  clearTimeout(overall);

  // Check every stream against the stored reply.
  let matched = 0;
  let mismatched = 0;
  await pool(requested, 20, async (i) => {
    const entry = results[i];
    if (!entry) return;
    try {
      const stored = await jsonRequest<{ content: string; status: string }>(to, postAgent, 'GET', `/chatroom/${entry.room}/messages/${entry.replyId}`, auth);
      if (stored.status === 200 && stored.body.status === 'completed' && entry.finalContent === stored.body.content && entry.text === stored.body.content) {
        matched++;
      } else {
        mismatched++;
        if (errorExamples.length < 5) errorExamples.push(`stream ${i}: streamed ${JSON.stringify(entry.text.slice(0, 60))}, stored ${JSON.stringify(stored.body.content?.slice(0, 60))} (${stored.body.status})`);
      }
    } catch (err) {
      fail(err);
    }
  });
  postAgent.destroy();
  return {
    kind: 'streams',
    requested,
    opened,
    peakOpen,
    allOpenAfterMs,
    postedAllAfterMs,
    done,
    completed,
    matched,
    mismatched,
    errors,
    errorExamples,
    deltaEvents,
    totalMs: lastDone - started,
    postToDoneMs: distribution(postToDone),
  };
}

process.once('message', (spec: LoadSpec) => {
  const run = spec.kind === 'autocannon' ? runAutocannon(spec) : spec.kind === 'ttft' ? runTtft(spec) : runStreams(spec);
  run
    .then((outcome) => send({ type: 'result', outcome }))
    .catch((err: unknown) => send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }))
    .finally(() => process.disconnect?.());
});
