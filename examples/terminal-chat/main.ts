// A terminal chat client built on the SDK: sign in with a one-time code, pick a chatroom, and chat, each reply
// printed token by token as the model writes it. /attach PATH uploads a file for the next prompt. Conversations are trees: /edit rewrites a prompt into a new
// branch, /prev and /next switch between the alternatives ("‹ 2 / 3 ›"). /search finds words in every chatroom and
// /open N opens the chatroom of a hit. Ctrl-C during a reply cancels it; Ctrl-C or Ctrl-D at the prompt quits.
//
//   pnpm exec tsx examples/terminal-chat/main.ts --api http://127.0.0.1:3000 [--mobile +14155550100] [--name Ada]
//
// The SDK is imported from its source, so nothing needs building; an app of your own imports '@gemini-chat/sdk'.
import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename } from 'node:path';
import { stdin, stdout } from 'node:process';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { createClient, GeminiChatError, siblingLabel, type Message, type Schemas, type SendResult } from '../../packages/sdk/src/index.js';

type Chatroom = Schemas['Chatroom'];
type Usage = Schemas['Usage'];
type UploadedFile = Schemas['File'];
type SearchHit = Schemas['SearchHit'];

const HELP = `Commands: /new [title]  a new chatroom · /rooms  switch chatroom · /usage  today's usage
          /branch  show the conversation (the branch you are on; "‹ 2 / 3 ›" marks alternatives)
          /edit N new text  rewrite your Nth prompt of the branch: a new branch beside the old one
          /prev · /next  switch the last message of the branch that has alternatives to the previous / next one
          /model  the models your plan may use, default marked · /model ID  this chatroom's replies use model ID
          /attach PATH  upload a file (image, PDF, text, audio) for your next prompt · /attach  what is queued
          /detach  drop the queued files
          /share  a public read-only link to this conversation as it is now (revoke it with DELETE /shares/{id})
          /search WORDS  find words in all your chatrooms ("exact phrase", OR, -word), hits numbered
          /open N  open the chatroom of hit N of the last /search
          /upgrade  a Pro checkout link · /quit  leave (also Ctrl-D)
Ctrl-C while a reply is being written cancels it.`;

const { values: args } = parseArgs({
  options: {
    api: { type: 'string', default: 'http://127.0.0.1:3000' },
    mobile: { type: 'string' },
    name: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  stdout.write('Usage: tsx examples/terminal-chat/main.ts [--api URL] [--mobile +E164] [--name NAME]\n\n' + HELP + '\n');
  process.exit(0);
}

const client = createClient({ baseUrl: args.api });
const rl = createInterface({ input: stdin, output: stdout });
const say = (line = '') => stdout.write(`${line}\n`);

// Lines typed ahead (or piped in) are queued by the iterator, never dropped; at the end of input (Ctrl-D, a closed
// pipe) `ask` answers null.
const lines = rl[Symbol.asyncIterator]();
let inputClosed = false;
rl.once('close', () => {
  inputClosed = true;
});
async function ask(query: string): Promise<string | null> {
  if (inputClosed) stdout.write(query);
  else {
    rl.setPrompt(query);
    rl.prompt();
  }
  const { value, done } = await lines.next();
  return done ? null : String(value).trim();
}

// Ctrl-C: a keypress in a terminal (readline's SIGINT), a signal otherwise. While a reply is being written it
// cancels the reply (twice: stops watching at once); at the prompt it quits.
let interrupt: (() => void) | undefined;
const onInterrupt = () => {
  if (interrupt) interrupt();
  else if (inputClosed) process.exit(130); // a second Ctrl-C while a call is still running
  else rl.close();
};
rl.on('SIGINT', onInterrupt);
process.on('SIGINT', onInterrupt);

/** One line about an error, whatever it is. */
function explain(err: unknown): string {
  if (err instanceof GeminiChatError) return `${err.code}: ${err.detail}${err.requestId ? ` (request ${err.requestId})` : ''}`;
  if (err instanceof TypeError) return `cannot reach the API at ${args.api} (${err.message})`;
  return err instanceof Error ? err.message : String(err);
}

const quota = (usage: Pick<Usage, 'used' | 'limit'>) =>
  usage.limit === null ? `${usage.used} prompts today (unlimited)` : `${usage.used}/${usage.limit} prompts today`;

function until(seconds: number | undefined): string {
  if (!seconds) return 'at midnight UTC';
  const minutes = Math.ceil(seconds / 60);
  return `in ${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Signs up (a new number) or asks for a login code (a known one), then verifies the code. */
async function signIn(): Promise<boolean> {
  const mobileNumber = args.mobile ?? (await ask('Mobile number (E.164, e.g. +14155550100): '));
  if (!mobileNumber) return false;
  let otp: string | undefined;
  try {
    try {
      ({ otp } = (await client.auth.signup({ mobileNumber, ...(args.name ? { name: args.name } : {}) })).otpChallenge);
      say('New number: account created.');
    } catch (err) {
      if (!(err instanceof GeminiChatError && err.code === 'MOBILE_NUMBER_TAKEN')) throw err;
      ({ otp } = await client.auth.sendOtp({ mobileNumber }));
      say('Known number: a login code was sent.');
    }
  } catch (err) {
    // A code sent moments ago is still valid: ask for that one.
    if (!(err instanceof GeminiChatError && err.code === 'OTP_RESEND_TOO_SOON')) throw err;
    say(`A code was sent less than ${err.retryAfterSeconds ?? 30} s ago: use that one.`);
  }
  if (otp) say(`Dev mode: the API returned the code (${otp}); using it.`);
  for (;;) {
    const code = otp ?? (await ask('Code: '));
    if (!code) return false;
    otp = undefined;
    try {
      await client.auth.verifyOtp({ mobileNumber, otp: code });
      const me = await client.user.get();
      say(`Signed in as ${me.mobileNumber} (${me.tier} plan, ${quota(me.usage)}).`);
      return true;
    } catch (err) {
      if (!(err instanceof GeminiChatError && err.code === 'OTP_INVALID')) throw err;
      const left = (err.problem as { attemptsRemaining?: number } | undefined)?.attemptsRemaining;
      say(`Wrong code${left === undefined ? '' : ` (${left} tries left)`}.`);
    }
  }
}

/** Lists the chatrooms and lets the user pick one, or create one with Enter. */
async function pickChatroom(): Promise<Chatroom | undefined> {
  const { items } = await client.chatrooms.list({ limit: 20 });
  if (items.length) {
    say('Chatrooms:');
    items.forEach((room, i) => say(`  ${i + 1}) ${room.title}`));
  }
  for (;;) {
    const answer = items.length ? await ask(`Pick a chatroom [1-${items.length}], or press Enter for a new one: `) : '';
    if (answer === null) return undefined;
    if (answer === '') return client.chatrooms.create();
    const room = items[Number(answer) - 1];
    if (room) return room;
  }
}

/** Prints a reply as it is written; resolves with its final message (undefined if we stopped watching). */
async function watchReply(room: Chatroom, replyId: string): Promise<Schemas['Message'] | undefined> {
  const stop = new AbortController();
  let cancelling = false;
  interrupt = () => {
    if (cancelling) return stop.abort(); // a second Ctrl-C: stop watching now
    cancelling = true;
    stdout.write(' [cancelling…]');
    // The server ends the stream with `done` (status cancelled, the text so far): keep reading until then.
    client.messages.cancel(room.id, replyId).catch((err: unknown) => {
      if (!(err instanceof GeminiChatError && err.code === 'REPLY_ALREADY_FINISHED')) say(`\n[cancel failed: ${explain(err)}]`);
    });
  };
  stdout.write('gemini> ');
  try {
    for await (const event of client.replies.stream(room.id, replyId, { signal: stop.signal })) {
      switch (event.type) {
        case 'delta':
          stdout.write(event.text);
          break;
        case 'reset': // the model call was retried: the reply starts over
          stdout.write('\n[the model was retried: starting over]\ngemini> ');
          break;
        case 'done':
        case 'error':
          stdout.write('\n');
          return event.message;
      }
    }
    return undefined;
  } catch (err) {
    if (stop.signal.aborted) {
      say('\n[stopped watching; the reply may still be finishing]');
      return undefined;
    }
    throw err;
  } finally {
    interrupt = undefined;
  }
}

/** The branch the chatroom shows, first prompt first (every page of it). */
async function branch(room: Chatroom): Promise<Message[]> {
  const messages: Message[] = [];
  for await (const message of client.messages.list(room.id, { limit: 100 })) messages.push(message); // page by page
  return messages.reverse(); // the API lists a branch leaf first
}

const size = (bytes: number) =>
  bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} kB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** "chart.png (image/png, 1.2 kB), notes.md (deleted)" */
const fileList = (files: Array<Pick<UploadedFile, 'name' | 'mimeType' | 'sizeBytes'> & { deleted?: boolean }>) =>
  files.map((f) => `${f.name} (${f.deleted ? 'deleted' : `${f.mimeType}, ${size(f.sizeBytes)}`})`).join(', ');

/** The most files one prompt can carry (the API's limit). */
const MAX_ATTACHMENTS = 10;
/** Files uploaded with /attach, sent with the next prompt. */
let queued: UploadedFile[] = [];

/** /attach PATH: uploads the file (streamed from disk); the API detects its type from the bytes. */
async function attach(input: string): Promise<void> {
  // Terminals quote a dragged-in path; ~ is the home directory, as in a shell.
  const path = input.replace(/^(['"])(.*)\1$/, '$2').replace(/^~(?=\/|$)/, homedir());
  if (queued.length >= MAX_ATTACHMENTS) {
    say(`[a prompt can carry at most ${MAX_ATTACHMENTS} files: /detach drops them]`);
    return;
  }
  let file: Blob;
  try {
    if (!(await stat(path)).isFile()) throw new Error('not a file');
    file = await openAsBlob(path);
  } catch (err) {
    say(`[cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}]`);
    return;
  }
  const uploaded = await client.files.upload(file, { name: basename(path) });
  queued.push(uploaded);
  say(`[attached ${fileList([uploaded])}; ${queued.length} file${queued.length === 1 ? '' : 's'} will go with your next prompt]`);
}

/** Prints a branch: prompts numbered (for /edit), "‹ 2 / 3 ›" beside a message that has alternatives. */
function drawBranch(messages: Message[]): void {
  let prompts = 0;
  for (const message of messages) {
    const label = siblingLabel(message);
    const beside = label ? `  ${label.text}` : '';
    if (message.role === 'user') {
      say(`${++prompts}) you> ${message.content}${beside}`);
      if (message.attachments.length) say(`   files: ${fileList(message.attachments)}`);
    } else say(`   gemini> ${message.content}${message.status === 'completed' ? '' : ` [${message.status}]`}${beside}`);
  }
}

/** How many hits /search prints (the best ones). */
const SEARCH_LIMIT = 10;
/** The hits of the last /search, numbered from 1 for /open. */
let hits: SearchHit[] = [];

// Matched words: bold in a terminal, between «» when the output is a file or a pipe (where escape codes are noise).
const [markStart, markStop] = stdout.isTTY ? ['\x1b[1m', '\x1b[22m'] : ['«', '»'];

/**
 * One line of text from the API, safe to print: control characters (an escape sequence in a message could
 * recolour or rewrite the terminal) become spaces, one for one, so the highlight indexes still point at the words.
 */
const printable = (text: string) => text.replace(/\p{Cc}/gu, ' ');

/** The snippet with its highlighted ranges marked, on one line. */
function marked(hit: SearchHit): string {
  const text = printable(hit.snippet);
  let out = '';
  let at = 0;
  for (const { start, end } of hit.highlights) {
    if (start < at || end <= start) continue; // overlapping or empty: never garble the text
    out += text.slice(at, start) + markStart + text.slice(start, end) + markStop;
    at = end;
  }
  return (out + text.slice(at)).replace(/ {2,}/g, ' ').trim();
}

/** /search WORDS: the best hits, numbered, as "chatroom title · role · snippet". */
async function search(words: string): Promise<void> {
  if (!words) {
    say('[usage: /search WORDS, e.g. /search lisbon "day trip" -museum]');
    return;
  }
  const { items, nextCursor } = await client.search.query(words, { limit: SEARCH_LIMIT });
  hits = items;
  if (!items.length) {
    say(`[no matches for ${words}]`);
    return;
  }
  items.forEach((hit, i) => {
    const role = hit.role === 'user' ? 'you' : hit.role === 'assistant' ? 'gemini' : 'title';
    say(`  ${i + 1}) ${printable(hit.chatroomTitle)} · ${role} · ${marked(hit)}`);
  });
  say(`[${nextCursor ? `the ${items.length} best matches (add words to narrow it)` : `${items.length} match${items.length === 1 ? '' : 'es'}`}; /open N opens one's chatroom]`);
}

/** /open N: the chatroom of hit N of the last /search (undefined: stay where we are). */
async function open(number: string): Promise<Chatroom | undefined> {
  const hit = /^\d+$/.test(number) ? hits[Number(number) - 1] : undefined;
  if (!hit) {
    say(hits.length ? `[usage: /open N, N from 1 to ${hits.length} (the numbers of the last /search)]` : '[nothing to open: /search WORDS first]');
    return undefined;
  }
  return client.chatrooms.get(hit.chatroomId);
}

/** Sends a prompt, or with `edit` the new text of that prompt (a new branch beside it), and prints the reply. */
async function send(room: Chatroom, prompt: string, edit?: { message: Message; number: number }): Promise<void> {
  let sent: SendResult;
  try {
    // The SDK gives each send a random Idempotency-Key, so it retries one whose answer was lost, never charging twice.
    // An edit keeps the files of the prompt it rewrites; a new prompt takes the queued ones.
    sent = edit
      ? await client.messages.edit(room.id, edit.message, { content: prompt })
      : await client.messages.send(room.id, { content: prompt, attachments: queued.map((f) => f.id) });
  } catch (err) {
    if (err instanceof GeminiChatError && err.code === 'QUOTA_EXCEEDED') {
      say(`[today's prompts are used up; more ${until(err.retryAfterSeconds)}. /upgrade for Pro]`);
      return;
    }
    if (err instanceof GeminiChatError && err.code === 'CHATROOM_BUSY') {
      say('[a reply in this chatroom is still being written; here it is. Send your prompt again afterwards]');
      const pending = await watchReply(room, (await client.messages.latestReply(room.id)).id);
      if (pending) say(`[${pending.status}]`);
      return;
    }
    throw err;
  }
  if (edit) say(`[prompt ${edit.number} edited: a new branch ${siblingLabel(sent.prompt)?.text ?? ''}]`);
  else queued = [];
  if (sent.prompt.attachments.length) say(`[sent with ${fileList(sent.prompt.attachments)}]`);
  const reply = await watchReply(room, sent.reply.id);
  if (!reply) return;
  const tokens = reply.usage ? ` · ${reply.usage.inputTokens} in / ${reply.usage.outputTokens} out tokens` : '';
  const failure = reply.error ? ` · ${reply.error.code}: ${reply.error.message}` : '';
  // A reply that failed without producing anything is refunded: ask for the usage again.
  const usage = reply.status === 'failed' ? (await client.user.get()).usage : sent.quota;
  say(`[${reply.status}${failure}${tokens} · ${quota(usage)}]`);
}

/** A command line: /new, /rooms, /usage, /branch, /edit, /prev, /next, /model [ID], /attach [PATH], /detach, /share, /search WORDS, /open N, /upgrade, /help. Returns the chatroom to continue in. */
async function command(line: string, room: Chatroom): Promise<Chatroom | undefined> {
  const [name = '', ...rest] = line.slice(1).split(/\s+/);
  switch (name) {
    case 'attach': {
      const path = line.slice('/attach'.length).trim();
      if (path) await attach(path);
      else say(queued.length ? `[queued for your next prompt: ${fileList(queued)}]` : '[no files queued: /attach PATH adds one]');
      return room;
    }
    case 'detach': {
      const dropped = queued;
      queued = [];
      // Never sent, so nothing refers to them: free the storage they take.
      await Promise.all(dropped.map((f) => client.files.delete(f.id)));
      say(dropped.length ? `[dropped ${fileList(dropped)}]` : '[no files queued]');
      return room;
    }
    case 'branch': {
      const messages = await branch(room);
      if (messages.length) drawBranch(messages);
      else say('[no messages yet]');
      return room;
    }
    case 'edit': {
      const [, number = '', text = ''] = /^\/edit\s+(\d+)\s+(.*\S)/.exec(line) ?? [];
      const prompts = (await branch(room)).filter((m) => m.role === 'user');
      const prompt = prompts[Number(number) - 1];
      if (!text || !prompt) {
        say(prompts.length ? `[usage: /edit N new text, N from 1 to ${prompts.length} (/branch numbers them)]` : '[no prompt to edit yet]');
        return room;
      }
      await send(room, text, { message: prompt, number: Number(number) });
      return room;
    }
    case 'prev':
    case 'next': {
      // The last message of the branch with alternatives: the one a fresh edit or regeneration created.
      const messages = await branch(room);
      const shown = messages.findLast((m) => siblingLabel(m));
      const label = shown && siblingLabel(shown);
      if (!label) {
        say('[no message of this branch has alternatives: /edit N makes one]');
        return room;
      }
      const target = name === 'prev' ? label.previousId : label.nextId;
      if (!target) {
        say(`[already the ${name === 'prev' ? 'first' : 'last'} one: ${label.text}]`);
        return room;
      }
      await client.chatrooms.switchBranch(room.id, target);
      drawBranch(await branch(room));
      return room;
    }
    case 'model': {
      const id = rest.join(' ').trim();
      if (id) {
        // The chatroom's model, for the replies sent from now on; the API refuses a model the plan may not use
        // (403 MODEL_NOT_ALLOWED) or one it does not offer (400 MODEL_UNKNOWN).
        try {
          const updated = await client.chatrooms.update(room.id, { model: id });
          room.model = updated.model;
          say(`[this chatroom's replies now use ${updated.model ?? 'the default model'}]`);
        } catch (err) {
          if (!(err instanceof GeminiChatError && ['MODEL_NOT_ALLOWED', 'MODEL_UNKNOWN'].includes(err.code))) throw err;
          say(`[${err.detail}]`);
        }
        return room;
      }
      const { items, defaultModel } = await client.models.list();
      say('Models your plan may use (/model ID picks one for this chatroom):');
      for (const model of items) {
        const can = [model.thinking && 'thinking', model.grounding && 'Google Search'].filter(Boolean).join(', ');
        const marks = [model.id === defaultModel && 'default', model.id === room.model && 'this chatroom'].filter(Boolean).join(', ');
        say(`  ${model.id === defaultModel ? '*' : ' '} ${model.id} · ${model.displayName}${can ? ` · ${can}` : ''}${marks ? ` (${marks})` : ''}`);
      }
      return room;
    }
    case 'share': {
      // A copy of the branch as it is now: what is sent afterwards is not in it.
      try {
        const share = await client.shares.create(room.id);
        say(`[shared ${share.messageCount} messages; anyone with this link can read them: ${share.url}]`);
      } catch (err) {
        if (!(err instanceof GeminiChatError && err.code === 'NOTHING_TO_SHARE')) throw err;
        say('[nothing to share yet: send a prompt first]');
      }
      return room;
    }
    case 'search':
      await search(line.slice('/search'.length).trim());
      return room;
    case 'open':
      return (await open(rest.join(' ').trim())) ?? room;
    case 'new': {
      const title = rest.join(' ');
      return client.chatrooms.create(title ? { title } : {});
    }
    case 'rooms':
      return pickChatroom();
    case 'usage': {
      const me = await client.user.get();
      say(`${me.tier} plan · ${quota(me.usage)} · ${me.usage.inputTokens} in / ${me.usage.outputTokens} out tokens`);
      return room;
    }
    case 'upgrade': {
      try {
        const { checkoutUrl } = await client.billing.checkout();
        say(`Open this page to pay for Pro, then come back: ${checkoutUrl}`);
      } catch (err) {
        if (!(err instanceof GeminiChatError && ['ALREADY_SUBSCRIBED', 'BILLING_NOT_CONFIGURED'].includes(err.code))) throw err;
        say(`[${err.detail}]`);
      }
      return room;
    }
    default:
      say(HELP);
      return room;
  }
}

async function main(): Promise<void> {
  say(`Gemini chat · ${args.api}`);
  if (!(await signIn())) return;
  let room = await pickChatroom();
  while (room) {
    if (room.currentMessageId) drawBranch(await branch(room));
    say(`Chatroom "${room.title}". Type a prompt; /help for commands.`);
    const current: Chatroom = room;
    for (;;) {
      const line = await ask('you> ');
      if (line === null || line === '/quit' || line === '/exit') return;
      if (!line) continue;
      try {
        if (line.startsWith('/')) {
          room = await command(line, current);
          if (room !== current) break;
        } else {
          await send(current, line);
        }
      } catch (err) {
        say(`[${explain(err)}]`);
      }
    }
  }
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  say(`[${explain(err)}]`);
  exitCode = 1;
} finally {
  rl.close();
  // Ends the session on the server too (the tokens lived only in this process).
  await client.auth.logout().catch(() => undefined);
  say('Bye.');
}
process.exit(exitCode);
