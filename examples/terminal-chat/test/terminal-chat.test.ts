import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { elfFixture, pngFixture, startStack, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '@gemini-chat/worker/worker';
// The SDK from its source: its package exports point at dist/, a build these tests do not need.
import { createClient } from '../../../packages/sdk/src/index.js';

// The terminal client as a real child process (node + tsx, as a user runs it) against a live API, worker and
// fake Gemini: the test types into its stdin and reads its stdout.

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let stack: Stack;
let baseUrl: string;
let scratch: string | undefined;
const newMobileNumber = () => `+1415${randomInt(200, 1000)}${String(randomInt(0, 10_000)).padStart(4, '0')}`;
const mobileNumber = newMobileNumber();

beforeAll(async () => {
  // Two prompts a day, so the third shows how the client handles QUOTA_EXCEEDED.
  stack = await startStack({ QUOTA_BASIC_DAILY: '2' }, { startWorker });
  baseUrl = await stack.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await stack?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** The client as a child process, with helpers to wait for its output and answer it. */
function runClient(...extra: string[]) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', MAIN, '--api', baseUrl, ...extra], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const check of waiters) check();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  running.add(child);
  void exited.then(() => running.delete(child));

  return {
    child,
    exited,
    get output() {
      return out;
    },
    /** Waits until the output after `from` matches; resolves with the match and the offset just past it. */
    waitFor(pattern: RegExp, from = 0, timeoutMs = 10_000): Promise<{ match: RegExpExecArray; end: number }> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(out.slice(from));
          if (!match) return;
          done();
          resolve({ match, end: from + match.index + match[0].length });
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${pattern}; output so far:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        void exited.then(() => setTimeout(check, 0));
        check();
      });
    },
    type(line: string) {
      child.stdin.write(`${line}\n`);
    },
  };
}
const running = new Set<ChildProcessWithoutNullStreams>();
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
});

/** The test's own session for the same number, to read what the API stored. */
async function reader(number = mobileNumber) {
  const client = createClient({ baseUrl });
  const challenge = await client.auth.sendOtp({ mobileNumber: number });
  await client.auth.verifyOtp({ mobileNumber: number, otp: challenge.otp! });
  return client;
}

describe('the terminal chat client', () => {
  it('signs up with the OTP from the response, streams a reply, cancels one with Ctrl-C and quits', async () => {
    const cli = runClient('--mobile', mobileNumber, '--name', 'Ada');
    await cli.waitFor(/New number: account created\.\nDev mode: the API returned the code \(\d{6}\); using it\.\nSigned in as \+1\d+ \(basic plan, 0\/2 prompts today\)/);
    // A new account has no chatrooms: one is created.
    let at = (await cli.waitFor(/Chatroom "New chat"\. Type a prompt; \/help for commands\.\nyou> /)).end;

    cli.type('Plan a day in Lisbon [[chunks:6]] [[slow:40]]');
    const { match, end } = await cli.waitFor(/gemini> ([\s\S]*?)\n\[completed · (\d+) in \/ (\d+) out tokens · 1\/2 prompts today\]\nyou> /, at);
    at = end;
    const streamed = match[1]!;

    const client = await reader();
    const [room] = (await client.chatrooms.list()).items;
    const [reply] = (await client.messages.list(room!.id, { limit: 1 })).items;
    expect(reply).toMatchObject({ role: 'assistant', status: 'completed' });
    expect(streamed).toBe(reply!.content);
    expect(streamed).toContain('You said: "Plan a day in Lisbon"');
    expect(match.slice(2).map(Number)).toEqual([reply!.usage!.inputTokens, reply!.usage!.outputTokens]);

    // A slow reply: Ctrl-C (SIGINT) once some text has arrived cancels it, keeping the text so far.
    cli.type('Tell me a long story [[chunks:40]] [[slow:100]]');
    await cli.waitFor(/gemini> \S/, at);
    cli.child.kill('SIGINT');
    const cancelled = await cli.waitFor(/gemini> ([\s\S]*?)\n\[cancelled(?: · \d+ in \/ \d+ out tokens)? · 2\/2 prompts today\]\nyou> /, at);
    at = cancelled.end;
    const [stopped] = (await client.messages.list(room!.id, { limit: 1 })).items;
    expect(stopped).toMatchObject({ role: 'assistant', status: 'cancelled' });
    // Everything printed, before and after the Ctrl-C, is the stored partial reply: less than the whole story.
    const printed = cancelled.match[1]!;
    expect(printed).toContain(' [cancelling…]');
    expect(printed.replace(' [cancelling…]', '')).toBe(stopped!.content);
    expect(stopped!.content.length).toBeGreaterThan(0);
    expect(stopped!.content).not.toMatch(/tests can predict it exactly\.$/);

    // The daily quota is used up: the client says so and carries on.
    cli.type('One more');
    at = (await cli.waitFor(/\[today's prompts are used up; more in \d+ h \d+ min\. \/upgrade for Pro\]\nyou> /, at)).end;

    cli.type('/quit');
    await cli.waitFor(/Bye\.\n/, at);
    expect(await cli.exited).toBe(0);
    await client.auth.logout();
  });

  it('signs in to a known number with a login code and picks an existing chatroom', async () => {
    const cli = runClient('--mobile', mobileNumber);
    await cli.waitFor(/Known number: a login code was sent\.\nDev mode: the API returned the code \(\d{6}\); using it\.\nSigned in as/);
    const at = (await cli.waitFor(/Chatrooms:\n {2}1\) [^\n]+\nPick a chatroom \[1-1\], or press Enter for a new one: /)).end;
    cli.type('1');
    await cli.waitFor(/Chatroom ".+"\. Type a prompt; \/help for commands\.\nyou> /, at);
    cli.child.stdin.end(); // Ctrl-D
    await cli.waitFor(/Bye\.\n/, at);
    expect(await cli.exited).toBe(0);
  });

  it('edits a prompt into a new branch, switches back with /prev and forth with /next, lists the models and picks one', async () => {
    const number = newMobileNumber();
    const cli = runClient('--mobile', number);
    let at = (await cli.waitFor(/Chatroom "New chat"\. Type a prompt; \/help for commands\.\nyou> /)).end;
    cli.type('First question');
    at = (await cli.waitFor(/\[completed · \d+ in \/ \d+ out tokens · 1\/2 prompts today\]\nyou> /, at)).end;

    // /edit 1: the new text as a sibling of prompt 1, streamed like any reply.
    cli.type('/edit 1 Better question');
    const edited = await cli.waitFor(
      /\[prompt 1 edited: a new branch ‹ 2 \/ 2 ›\]\ngemini> ([^\n]*)\n\[completed · \d+ in \/ \d+ out tokens · 2\/2 prompts today\]\nyou> /,
      at,
    );
    at = edited.end;
    expect(edited.match[1]).toContain('You said: "Better question"');

    // /prev: back to the original prompt, its branch redrawn with its reply.
    cli.type('/prev');
    const back = await cli.waitFor(/1\) you> First question {2}‹ 1 \/ 2 ›\n {3}gemini> ([^\n]*)\nyou> /, at);
    at = back.end;
    const client = await reader(number);
    const [room] = (await client.chatrooms.list()).items;
    const shown = (await client.messages.list(room!.id)).items;
    expect(shown.map((m) => m.content)).toEqual([back.match[1], 'First question']);
    expect((await client.chatrooms.get(room!.id)).currentMessageId).toBe(shown[0]!.id);
    cli.type('/prev');
    at = (await cli.waitFor(/\[already the first one: ‹ 1 \/ 2 ›\]\nyou> /, at)).end;

    // /next: the edited branch again.
    cli.type('/next');
    at = (await cli.waitFor(/1\) you> Better question {2}‹ 2 \/ 2 ›\n {3}gemini> [^\n]*\nyou> /, at)).end;
    expect((await client.messages.list(room!.id)).items.map((m) => m.content)[1]).toBe('Better question');

    cli.type('/edit 3 Nothing there');
    at = (await cli.waitFor(/\[usage: \/edit N new text, N from 1 to 1 \(\/branch numbers them\)\]\nyou> /, at)).end;

    const { defaultModel } = await client.models.list();
    cli.type('/model');
    const escaped = defaultModel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    at = (await cli.waitFor(new RegExp(`\\* ${escaped} · [^\\n]*\\(default\\)\\n`), at)).end;

    // /model ID: the chatroom's replies use that model from now on; an id the API does not offer is refused.
    cli.type(`/model ${defaultModel}`);
    at = (await cli.waitFor(new RegExp(`\\[this chatroom's replies now use ${escaped}\\]\\nyou> `), at)).end;
    expect((await client.chatrooms.get(room!.id)).model).toBe(defaultModel);
    cli.type('/model no-such-model');
    at = (await cli.waitFor(/\[There is no model "no-such-model"; GET \/models lists the models you may use\.\]\nyou> /, at)).end;
    cli.type('/model');
    at = (await cli.waitFor(new RegExp(`\\* ${escaped} · [^\\n]*\\(default, this chatroom\\)\\n`), at)).end;

    cli.type('/quit');
    await cli.waitFor(/Bye\.\n/, at);
    expect(await cli.exited).toBe(0);
    await client.auth.logout();
  });

  it('shares the conversation with /share and prints a link anyone can read', async () => {
    const number = newMobileNumber();
    const cli = runClient('--mobile', number);
    let at = (await cli.waitFor(/Chatroom "New chat"\. Type a prompt; \/help for commands\.\nyou> /)).end;
    cli.type('/share');
    at = (await cli.waitFor(/\[nothing to share yet: send a prompt first\]\nyou> /, at)).end;
    cli.type('Tell me about Lisbon');
    at = (await cli.waitFor(/\[completed [^\n]*\]\nyou> /, at)).end;
    cli.type('/share');
    const shared = await cli.waitFor(/\[shared 2 messages; anyone with this link can read them: (\S+)\]\nyou> /, at);
    at = shared.end;

    // The printed link works without signing in, and holds the exchange.
    const url = shared.match[1]!;
    expect(url).toMatch(new RegExp(`^${stack.config.http.publicBaseUrl}/s/[0-9a-f-]{36}$`));
    const res = await fetch(`${baseUrl}${new URL(url).pathname}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { messages: Array<{ role: string; content: string }> };
    expect(body.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(body.messages[0]!.content).toBe('Tell me about Lisbon');
    const client = await reader(number);
    expect((await client.shares.list()).items.map((s) => s.url)).toEqual([url]);

    cli.type('/quit');
    await cli.waitFor(/Bye\.\n/, at);
    expect(await cli.exited).toBe(0);
    await client.auth.logout();
  });

  it('searches every chatroom with /search, marks the matched words and opens a hit\'s chatroom with /open N', async () => {
    const number = newMobileNumber();
    const cli = runClient('--mobile', number);
    let at = (await cli.waitFor(/Chatroom "New chat"\. Type a prompt; \/help for commands\.\nyou> /)).end;
    cli.type('Plan a day in Lisbon');
    at = (await cli.waitFor(/\[completed [^\n]*\]\nyou> /, at)).end;
    cli.type('/new Porto notes');
    at = (await cli.waitFor(/Chatroom "Porto notes"\. Type a prompt; \/help for commands\.\nyou> /, at)).end;
    cli.type('Where to eat in Porto');
    at = (await cli.waitFor(/\[completed [^\n]*\]\nyou> /, at)).end;

    cli.type('/open 1');
    at = (await cli.waitFor(/\[nothing to open: \/search WORDS first\]\nyou> /, at)).end;
    cli.type('/search');
    at = (await cli.waitFor(/\[usage: \/search WORDS, e\.g\. [^\n]*\]\nyou> /, at)).end;

    // Hits numbered, best first, as "title · role · snippet" with the matched word between «» (stdout is a pipe).
    cli.type('/search lisbon');
    const found = await cli.waitFor(/((?: {2}\d+\) [^\n]*\n)+)\[(\d+) match(?:es)?; \/open N opens one's chatroom\]\nyou> /, at);
    at = found.end;
    const lines = found.match[1]!.trimEnd().split('\n');
    const client = await reader(number);
    const { items } = await client.search.query('lisbon', { limit: 10 });
    expect(items.length).toBeGreaterThanOrEqual(2); // the prompt and its reply
    expect(lines).toHaveLength(items.length);
    expect(Number(found.match[2])).toBe(items.length);
    lines.forEach((line, i) => {
      const hit = items[i]!;
      const role = hit.role === 'user' ? 'you' : hit.role === 'assistant' ? 'gemini' : 'title';
      const snippet = hit.snippet.replace(/\s+/g, ' ').trim();
      expect(line.startsWith(`  ${i + 1}) ${hit.chatroomTitle} · ${role} · `)).toBe(true);
      expect(line).toContain('«Lisbon»');
      expect(line.replace(/[«»]/g, '')).toContain(snippet);
    });
    expect(found.match[1]).not.toContain('Porto');
    expect(lines.some((line) => /· you · Plan a day in «Lisbon»$/.test(line))).toBe(true);

    cli.type('/open 9');
    at = (await cli.waitFor(new RegExp(`\\[usage: /open N, N from 1 to ${items.length} \\(the numbers of the last /search\\)\\]\\nyou> `), at)).end;
    // /open 1: the Lisbon chatroom, its branch drawn, and prompts go there from now on.
    cli.type('/open 1');
    at = (await cli.waitFor(/1\) you> Plan a day in Lisbon\n {3}gemini> [^\n]*\nChatroom ".+"\. Type a prompt; \/help for commands\.\nyou> /, at)).end;
    cli.type('/branch');
    at = (await cli.waitFor(/1\) you> Plan a day in Lisbon\n {3}gemini> [^\n]*\nyou> /, at)).end;

    cli.type('/search "no such words here"');
    at = (await cli.waitFor(/\[no matches for "no such words here"\]\nyou> /, at)).end;

    // Stored text with a terminal escape sequence (clear the screen) and a line break prints as one harmless line.
    const lisbon = (await client.chatrooms.list()).items.find((room) => room.title !== 'Porto notes')!;
    await stack.db
      .insertInto('message')
      .values({ chatroom_id: lisbon.id, user_id: (await client.user.get()).id, role: 'user', status: 'completed', content: 'Sesame\x1b[2Jopen\nnow', parent_id: null })
      .execute();
    const before = cli.output.length;
    cli.type('/search sesame');
    at = (await cli.waitFor(/ {2}1\) .+ · you · «Sesame» \[2Jopen now\n\[1 match; \/open N opens one's chatroom\]\nyou> /, at)).end;
    expect(cli.output.slice(before)).not.toContain('\x1b');

    cli.type('/quit');
    await cli.waitFor(/Bye\.\n/, at);
    expect(await cli.exited).toBe(0);
    await client.auth.logout();
  });

  it('uploads files with /attach, lists the queue, sends them with the next prompt and shows them on the branch', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'terminal-chat-files-'));
    const png = pngFixture(64, 64);
    const notes = '# Packing list\n\n- water\n- hat\n';
    await writeFile(join(scratch, 'chart.png'), png);
    await writeFile(join(scratch, 'my notes.md'), notes);
    await writeFile(join(scratch, 'tool.bin'), elfFixture());
    await writeFile(join(scratch, 'spare.png'), pngFixture(8, 8));
    const number = newMobileNumber();
    const cli = runClient('--mobile', number);
    let at = (await cli.waitFor(/Chatroom "New chat"\. Type a prompt; \/help for commands\.\nyou> /)).end;

    cli.type('/attach');
    at = (await cli.waitFor(/\[no files queued: \/attach PATH adds one\]\nyou> /, at)).end;
    cli.type(`/attach ${join(scratch, 'chart.png')}`);
    at = (await cli.waitFor(new RegExp(`\\[attached chart\\.png \\(image/png, ${png.length} B\\); 1 file will go with your next prompt\\]\\nyou> `), at)).end;
    // A quoted path (as a terminal pastes a dragged file), with a space in it: the type comes from the bytes.
    cli.type(`/attach "${join(scratch, 'my notes.md')}"`);
    at = (await cli.waitFor(/\[attached my notes\.md \(text\/markdown, \d+ B\); 2 files will go with your next prompt\]\nyou> /, at)).end;
    // Refused: a file that is not there, and one the API does not take. Neither is queued.
    cli.type(`/attach ${join(scratch, 'missing.png')}`);
    at = (await cli.waitFor(/\[cannot read .*missing\.png: no such file\]\nyou> /, at)).end;
    cli.type(`/attach ${join(scratch, 'tool.bin')}`);
    at = (await cli.waitFor(/\[UNSUPPORTED_MEDIA_TYPE: [^\n]+\]\nyou> /, at)).end;
    cli.type('/attach');
    at = (await cli.waitFor(
      new RegExp(`\\[queued for your next prompt: chart\\.png \\(image/png, ${png.length} B\\), my notes\\.md \\(text/markdown, \\d+ B\\)\\]\\nyou> `),
      at,
    )).end;

    // The next prompt carries them, in the order attached; then the queue is empty.
    cli.type('What is in these?');
    at = (await cli.waitFor(
      /\[sent with chart\.png \(image\/png, \d+ B\), my notes\.md \(text\/markdown, \d+ B\)\]\ngemini> [^\n]*\n\[completed · \d+ in \/ \d+ out tokens · 1\/2 prompts today\]\nyou> /,
      at,
    )).end;
    cli.type('/attach');
    at = (await cli.waitFor(/\[no files queued: \/attach PATH adds one\]\nyou> /, at)).end;

    const client = await reader(number);
    const [room] = (await client.chatrooms.list()).items;
    const [, prompt] = (await client.messages.list(room!.id)).items;
    expect(prompt).toMatchObject({ content: 'What is in these?' });
    expect(prompt!.attachments.map((f) => [f.name, f.mimeType, f.sizeBytes])).toEqual([
      ['chart.png', 'image/png', png.length],
      ['my notes.md', 'text/markdown', Buffer.byteLength(notes)],
    ]);

    // A file deleted since shows as deleted on the branch.
    await client.files.delete(prompt!.attachments[0]!.id);
    cli.type('/branch');
    at = (await cli.waitFor(/1\) you> What is in these\?\n {3}files: chart\.png \(deleted\), my notes\.md \(text\/markdown, \d+ B\)\n {3}gemini> [^\n]*\nyou> /, at)).end;

    // /detach drops the queue and deletes the files that were never sent.
    cli.type(`/attach ${join(scratch, 'spare.png')}`);
    at = (await cli.waitFor(/\[attached spare\.png [^\n]*\]\nyou> /, at)).end;
    expect((await client.files.list()).items.map((f) => f.name)).toContain('spare.png');
    cli.type('/detach');
    at = (await cli.waitFor(/\[dropped spare\.png \(image\/png, \d+ B\)\]\nyou> /, at)).end;
    expect((await client.files.list()).items.map((f) => f.name)).toEqual(['my notes.md']);

    cli.type('/quit');
    await cli.waitFor(/Bye\.\n/, at);
    expect(await cli.exited).toBe(0);
    await client.auth.logout();
  });
});
