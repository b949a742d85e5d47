import { FINISH_FOLDER } from './folders.js';
import type { Json } from './openapi.types.js';
import { js } from './source-text.js';
import {
  billingTest,
  messageShape,
  otpChallengeTest,
  problemTest,
  statusTest,
  storeTokens,
  unlessBillingOff,
  UUID_RE,
} from './test-snippets.js';

// The run: one scenario per request, in order. `op` names the spec operation (operationId) the request is built
// from; a scenario with `key` is an extra request on the same operation (e.g. a second login).

export interface Scenario {
  op: string;
  /** Unique per request; defaults to op. */
  key?: string;
  /** Defaults to the converter's name (the operation summary). */
  name?: string;
  /** Defaults to the operation's tag folder. */
  folder?: string;
  /** What this request does in the run, appended to the operation's description. */
  note?: string;
  body?: Json;
  /** A JSON body as text, for a body that is a variable the run filled (e.g. `{{exportedChatroom}}`). */
  rawBody?: string;
  /** A multipart body: file parts read from `src`, a path relative to newman's --working-dir (the repo root). */
  formdata?: Array<{ key: string; src: string }>;
  /** Sends this bearer token (e.g. `{{apiKey}}`) instead of the collection's `{{accessToken}}`. */
  bearer?: string;
  /** Headers to send (added or enabled); other optional headers stay disabled. */
  headers?: Record<string, string>;
  /** Query parameters to send (added or enabled). */
  query?: Record<string, string>;
  prerequest?: string;
  test: string;
  /** The status the test expects: its saved example is kept next to the success ones. */
  expect: number;
  /** For an expected error: the problem the saved example shows. */
  problem?: { code: string; detail: string };
}

/** A request whose expected answer is a problem: the test, the status and the saved example's problem. */
function expectProblem(status: number, code: string, detail: string): Pick<Scenario, 'test' | 'expect' | 'problem'> {
  return { test: problemTest(status, code), expect: status, problem: { code, detail } };
}

export const SCENARIOS: Scenario[] = [
  // --- Auth: sign up with a fresh number, verify it, then exercise the token endpoints -----------------------
  {
    op: 'signup',
    note: 'Pre-request: picks a fresh valid number (+1 415, an exchange starting 2-9, 6 random digits) into `mobileNumber`. Test: stores the signup OTP (`otpChallenge.otp`, present with OTP_DELIVERY=response) in `otp`.',
    body: { mobileNumber: '{{mobileNumber}}', name: 'Postman Runner' },
    prerequest: js`
      // A new account on every run: +1 415, an exchange code starting 2-9, then 6 random digits (valid E.164).
      const exchangeFirstDigit = 2 + Math.floor(Math.random() * 8);
      const rest = String(Math.floor(Math.random() * 1000000)).padStart(6, '0');
      pm.collectionVariables.set('mobileNumber', '+1415' + exchangeFirstDigit + rest);
    `,
    test: js`
      ${statusTest(201)}
      const body = pm.response.json();
      pm.test('the user is registered, basic, not yet verified', () => {
        pm.expect(body.user.id).to.match(${UUID_RE});
        pm.expect(body.user.mobileNumber).to.eql(pm.variables.get('mobileNumber'));
        pm.expect(body.user.mobileVerified).to.eql(false);
        pm.expect(body.user.tier).to.eql('basic');
        pm.expect(body.user.hasPassword).to.eql(false);
      });
      pm.test('the signup OTP is in the body (OTP_DELIVERY=response)', () => {
        pm.expect(body.otpChallenge.otp, 'run the API with OTP_DELIVERY=response to get the code here').to.match(/^\\d{6}$/);
      });
      if (body.otpChallenge && body.otpChallenge.otp) pm.collectionVariables.set('otp', body.otpChallenge.otp);
    `,
    expect: 201,
  },
  {
    op: 'verifyOtp',
    note: 'Exchanges `mobileNumber` + `otp` for tokens; stores `accessToken` and `refreshToken`.',
    body: { mobileNumber: '{{mobileNumber}}', otp: '{{otp}}' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      ${storeTokens}
      pm.test('the number is now verified', () => pm.expect(body.user.mobileVerified).to.eql(true));
    `,
    expect: 200,
  },
  {
    op: 'sendOtp',
    note: 'Issues a login OTP for the registered number (stored in `otp`; not needed further: the run signs in with a password later).',
    body: { mobileNumber: '{{mobileNumber}}' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      ${otpChallengeTest}
    `,
    expect: 200,
  },
  {
    op: 'refreshTokens',
    note: 'Rotates `refreshToken`: a new pair replaces the stored one.',
    body: { refreshToken: '{{refreshToken}}' },
    test: js`
      const previous = pm.variables.get('refreshToken');
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the refresh token was rotated', () => pm.expect(body.refreshToken).to.not.eql(previous));
      ${storeTokens}
    `,
    expect: 200,
  },
  {
    op: 'changePassword',
    note: 'Sets a first password (`password`; no `currentPassword` while none is set). Revokes the other sessions and returns fresh tokens, which are stored.',
    body: { newPassword: '{{password}}' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      ${storeTokens}
      pm.test('the account now has a password', () => pm.expect(body.user.hasPassword).to.eql(true));
    `,
    expect: 200,
  },
  {
    op: 'login',
    note: 'Signs in with `mobileNumber` + `password`; stores the tokens used by the rest of the run.',
    body: { mobileNumber: '{{mobileNumber}}', password: '{{password}}' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      ${storeTokens}
    `,
    expect: 200,
  },

  // --- User ----------------------------------------------------------------------------------------------------
  {
    op: 'getMe',
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the signed-in user', () => {
        pm.expect(body.mobileNumber).to.eql(pm.variables.get('mobileNumber'));
        pm.expect(body.mobileVerified).to.eql(true);
        pm.expect(body.hasPassword).to.eql(true);
        pm.expect(['basic', 'pro']).to.include(body.tier);
      });
      pm.test("today's usage", () => {
        pm.expect(body.usage.used).to.be.a('number');
        pm.expect(body.usage).to.have.property('limit');
        pm.expect(Date.parse(body.usage.resetsAt)).to.be.above(Date.now());
      });
    `,
    expect: 200,
  },
  {
    op: 'updateMe',
    body: { name: 'Ada Lovelace', email: 'ada@example.com' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('name and email are updated', () => {
        pm.expect(body.name).to.eql('Ada Lovelace');
        pm.expect(body.email).to.eql('ada@example.com');
      });
    `,
    expect: 200,
  },

  {
    op: 'exportAccount',
    note: 'Everything the account holds in one JSON file; this early in the run, mostly the profile.',
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the account export format, with the profile as updated', () => {
        pm.expect(body.format).to.eql('gemini-chat.account-export');
        pm.expect(body.version).to.eql(1);
        pm.expect(body.profile.mobileNumber).to.eql(pm.variables.get('mobileNumber'));
        pm.expect(body.profile.name).to.eql('Ada Lovelace');
        pm.expect(body.profile.email).to.eql('ada@example.com');
        pm.expect(body.chatrooms).to.be.an('array');
        pm.expect(body.files).to.be.an('array');
      });
    `,
    expect: 200,
  },

  // --- Models --------------------------------------------------------------------------------------------------
  {
    op: 'listModels',
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test("the models of the caller's tier, one of them its default", () => {
        pm.expect(body.items).to.be.an('array').that.is.not.empty;
        pm.expect(body.nextCursor).to.eql(null);
        const defaults = body.items.filter((m) => m.default);
        pm.expect(defaults.map((m) => m.id)).to.eql([body.defaultModel]);
      });
      pm.test('each model says what it can do and who may use it', () => {
        body.items.forEach((m) => {
          pm.expect(m.id).to.be.a('string');
          pm.expect(m.tiers).to.include('basic');
          pm.expect(m.thinking).to.be.a('boolean');
          pm.expect(m.grounding).to.be.a('boolean');
          pm.expect(m.inputModalities).to.include('text');
        });
      });
    `,
    expect: 200,
  },

  // --- Chatrooms -----------------------------------------------------------------------------------------------
  {
    op: 'createChatroom',
    note: 'Stores the new chatroom in `chatroomId`.',
    body: { title: 'Trip ideas', systemPrompt: 'Be brief.' },
    test: js`
      ${statusTest(201)}
      const body = pm.response.json();
      pm.test('the chatroom as created', () => {
        pm.expect(body.id).to.match(${UUID_RE});
        pm.expect(body.title).to.eql('Trip ideas');
        pm.expect(body.systemPrompt).to.eql('Be brief.');
      });
      if (body.id) pm.collectionVariables.set('chatroomId', body.id);
    `,
    expect: 201,
  },
  {
    op: 'listChatrooms',
    note: 'Stores the list `ETag` in `chatroomListEtag` for the conditional request that follows.',
    query: { limit: '20' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('a page that lists the new chatroom', () => {
        pm.expect(body.items).to.be.an('array');
        pm.expect(body.items.map((room) => room.id)).to.include(pm.variables.get('chatroomId'));
        pm.expect(body).to.have.property('nextCursor');
      });
      pm.test('an ETag for conditional requests', () => pm.expect(pm.response.headers.get('ETag')).to.be.a('string').and.not.empty);
      pm.collectionVariables.set('chatroomListEtag', pm.response.headers.get('ETag') || '');
    `,
    expect: 200,
  },
  {
    op: 'listChatrooms',
    key: 'listChatrooms:notModified',
    name: 'The chatroom list again, with If-None-Match (304 Not Modified)',
    note: 'Sends the stored `chatroomListEtag` back: nothing changed, so 304 with no body.',
    query: { limit: '20' },
    headers: { 'if-none-match': '{{chatroomListEtag}}' },
    test: js`
      ${statusTest(304)}
      pm.test('no body', () => pm.expect(pm.response.text()).to.eql(''));
    `,
    expect: 304,
  },
  {
    op: 'getChatroom',
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the chatroom with its (still empty) messages', () => {
        pm.expect(body.id).to.eql(pm.variables.get('chatroomId'));
        pm.expect(body.messages).to.be.an('array').that.is.empty;
        pm.expect(body.hasMoreMessages).to.eql(false);
        pm.expect(body.messagesNextCursor).to.eql(null);
      });
    `,
    expect: 200,
  },
  {
    op: 'updateChatroom',
    body: { title: 'Lisbon trip', systemPrompt: 'Be brief and practical.' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('renamed, new system prompt', () => {
        pm.expect(body.id).to.eql(pm.variables.get('chatroomId'));
        pm.expect(body.title).to.eql('Lisbon trip');
        pm.expect(body.systemPrompt).to.eql('Be brief and practical.');
      });
    `,
    expect: 200,
  },

  {
    op: 'updateChatroom',
    key: 'updateChatroom:settings',
    name: 'Set the chatroom reply settings (thinking, thoughts, Google Search)',
    note: 'Replaces the chatroom settings as a whole; they apply to the replies sent from then on (what a model cannot do is left out at each send).',
    body: { settings: { thinking: 'low', showThoughts: true, googleSearch: true } },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the new settings, the rest of the chatroom unchanged', () => {
        pm.expect(body.id).to.eql(pm.variables.get('chatroomId'));
        pm.expect(body.settings).to.eql({ thinking: "low", showThoughts: true, googleSearch: true });
        pm.expect(body.title).to.eql('Lisbon trip');
      });
    `,
    expect: 200,
  },

  // --- Messages ------------------------------------------------------------------------------------------------
  {
    op: 'sendMessage',
    note: '`Prefer: wait=10` holds the request until the reply is finished (200). Stores the prompt in `messageId` and the reply in `replyId`. A fresh `Idempotency-Key` per run.',
    body: { content: 'Plan a day in Lisbon' },
    headers: { 'idempotency-key': '{{$guid}}', prefer: 'wait=10' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the prompt and its completed reply', () => {
        ${messageShape('body.userMessage')}
        pm.expect(body.userMessage.role).to.eql('user');
        pm.expect(body.userMessage.content).to.eql('Plan a day in Lisbon');
        pm.expect(body.reply.role).to.eql('assistant');
        pm.expect(body.reply.replyToId).to.eql(body.userMessage.id);
        pm.expect(body.reply.status).to.eql('completed');
        pm.expect(body.reply.content).to.be.a('string').and.not.empty;
      });
      pm.test("links to poll and stream the reply, today's quota", () => {
        pm.expect(body.links.reply).to.include(body.reply.id);
        pm.expect(body.links.stream).to.include('/stream');
        pm.expect(body.quota.used).to.be.at.least(1);
      });
      if (body.quota && body.quota.limit !== null) {
        pm.test('RateLimit-* headers match the quota', () => {
          pm.expect(Number(pm.response.headers.get('RateLimit-Limit'))).to.eql(body.quota.limit);
          pm.expect(Number(pm.response.headers.get('RateLimit-Remaining'))).to.eql(Math.max(0, body.quota.limit - body.quota.used));
          pm.expect(Number(pm.response.headers.get('RateLimit-Reset'))).to.be.above(0);
        });
      }
      if (body.userMessage) pm.collectionVariables.set('messageId', body.userMessage.id);
      if (body.reply) pm.collectionVariables.set('replyId', body.reply.id);
    `,
    expect: 200,
  },
  {
    op: 'getLatestReply',
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the newest reply, finished', () => {
        pm.expect(body.id).to.eql(pm.variables.get('replyId'));
        pm.expect(body.status).to.eql('completed');
        pm.expect(body.replyToId).to.eql(pm.variables.get('messageId'));
      });
    `,
    expect: 200,
  },
  {
    op: 'listMessages',
    query: { limit: '20' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('newest first: the reply, then the prompt', () => {
        pm.expect(body.items.map((m) => m.id)).to.eql([pm.variables.get('replyId'), pm.variables.get('messageId')]);
        pm.expect(body.nextCursor).to.eql(null);
      });
    `,
    expect: 200,
  },
  {
    op: 'getMessage',
    note: 'Polls the reply (`messageId` path variable = `{{replyId}}`).',
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the completed reply with its usage and model', () => {
        ${messageShape('body')}
        pm.expect(body.id).to.eql(pm.variables.get('replyId'));
        pm.expect(body.status).to.eql('completed');
        pm.expect(body.error).to.eql(null);
        pm.expect(body.usage.outputTokens).to.be.a('number');
        pm.expect(body.model).to.be.a('string');
        pm.expect(body.completedAt).to.be.a('string');
      });
    `,
    expect: 200,
  },
  {
    op: 'streamReply',
    note: 'The reply is finished, so the stream replays it in full and ends (a live reply streams `delta` events as it is written).',
    test: js`
      ${statusTest(200)}
      pm.test('Server-Sent Events', () => pm.expect(pm.response.headers.get('Content-Type')).to.include('text/event-stream'));
      pm.test('delta events, then done with the final message', () => {
        const text = pm.response.text();
        pm.expect(text).to.include('event: delta');
        const done = text.split('\\n\\n').find((frame) => frame.includes('event: done'));
        pm.expect(done, 'a done event').to.be.a('string');
        const data = JSON.parse(done.split('\\n').find((line) => line.startsWith('data: ')).slice('data: '.length));
        pm.expect(data.id).to.eql(pm.variables.get('replyId'));
        pm.expect(data.status).to.eql('completed');
      });
    `,
    expect: 200,
  },
  {
    op: 'cancelReply',
    note: 'The reply already completed, so cancelling it is refused: 409 REPLY_ALREADY_FINISHED (a queued or generating reply would answer 200, `cancelled`).',
    ...expectProblem(409, 'REPLY_ALREADY_FINISHED', 'This reply already ended (completed).'),
  },
  {
    op: 'regenerateReply',
    note: 'A new reply to the same prompt, held with `Prefer: wait=10`, with the chatroom model and settings (an empty body); stored in `replyId`.',
    body: {},
    headers: { 'idempotency-key': '{{$guid}}', prefer: 'wait=10' },
    test: js`
      const previousReply = pm.variables.get('replyId');
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('a new completed reply to the same prompt', () => {
        pm.expect(body.reply.id).to.not.eql(previousReply);
        pm.expect(body.reply.replyToId).to.eql(pm.variables.get('messageId'));
        pm.expect(body.reply.status).to.eql('completed');
      });
      if (body.reply) pm.collectionVariables.set('replyId', body.reply.id);
    `,
    expect: 200,
  },
  {
    op: 'forkChatroom',
    // Runs with the messages: it needs the finished, regenerated reply they leave in `replyId`.
    folder: 'Messages',
    note: 'A new chatroom holding a copy of the branch up to the regenerated reply (`replyId`): the prompt and that reply, with new ids.',
    body: { messageId: '{{replyId}}' },
    test: js`
      ${statusTest(201)}
      const body = pm.response.json();
      pm.test('a new chatroom named after the source', () => {
        pm.expect(body.id).to.match(${UUID_RE});
        pm.expect(body.id).to.not.eql(pm.variables.get('chatroomId'));
        pm.expect(body.title).to.match(/ \\(fork\\)$/);
      });
      pm.test('the copied path: the reply, then its prompt (new ids), the reply current', () => {
        pm.expect(body.messages.map((m) => m.role)).to.eql(['assistant', 'user']);
        pm.expect(body.messages[0].id).to.not.eql(pm.variables.get('replyId'));
        pm.expect(body.messages[0].status).to.eql('completed');
        pm.expect(body.messages[0].parentId).to.eql(body.messages[1].id);
        pm.expect(body.messages[1].parentId).to.eql(null);
        pm.expect(body.messages[1].content).to.eql('Plan a day in Lisbon');
        pm.expect(body.currentMessageId).to.eql(body.messages[0].id);
        body.messages.forEach((m) => pm.expect(m.chatroomId).to.eql(body.id));
      });
    `,
    expect: 201,
  },

  // The conversation tree: edit the first prompt (a sibling branch, its only extra send), then switch back.
  {
    op: 'sendMessage',
    key: 'sendMessage:editPrompt',
    name: 'Edit the first prompt (a new branch beside it)',
    note: 'Editing prompt P sends the new text with `parentId` = P.parentId. Pre-request: looks up the parent of the first prompt (`messageId`; null for a first prompt) and puts it in the body. `Prefer: wait=30`. Stores the new prompt in `editedMessageId` and its reply in `editReplyId`.',
    body: { content: 'Plan a day in Porto', parentId: null },
    headers: { 'idempotency-key': '{{$guid}}', prefer: 'wait=30' },
    prerequest: js`
      // The prompt being edited: its parent becomes the new prompt's parent.
      pm.sendRequest({
        url: pm.variables.get('baseUrl') + '/chatroom/' + pm.variables.get('chatroomId') + '/messages/' + pm.variables.get('messageId'),
        method: 'GET',
        header: { Authorization: 'Bearer ' + pm.variables.get('accessToken') },
      }, (err, res) => {
        if (err || res.code !== 200) throw new Error('could not read the prompt to edit: ' + (err || res.code));
        const body = JSON.parse(pm.request.body.raw);
        body.parentId = res.json().parentId;
        pm.request.body.update(JSON.stringify(body, null, 2));
      });
    `,
    test: js`
      pm.test('status is 200 OK or 202 Accepted', () => pm.expect(pm.response.code).to.be.oneOf([200, 202]));
      const body = pm.response.json();
      pm.test('a new prompt beside the first one: 2 siblings, this one the second', () => {
        ${messageShape('body.userMessage')}
        pm.expect(body.userMessage.id).to.not.eql(pm.variables.get('messageId'));
        pm.expect(body.userMessage.content).to.eql('Plan a day in Porto');
        pm.expect(body.userMessage.parentId).to.eql(null);
        pm.expect(body.userMessage.siblings.count).to.eql(2);
        pm.expect(body.userMessage.siblings.index).to.eql(2);
        pm.expect(body.userMessage.siblings.previousId).to.eql(pm.variables.get('messageId'));
        pm.expect(body.reply.replyToId).to.eql(body.userMessage.id);
      });
      if (body.userMessage) pm.collectionVariables.set('editedMessageId', body.userMessage.id);
      if (body.reply) pm.collectionVariables.set('editReplyId', body.reply.id);
    `,
    expect: 200,
  },
  {
    op: 'listMessages',
    key: 'listMessages:editedBranch',
    name: 'The current branch: the edited prompt',
    note: 'The edit made its branch current: its reply, then the edited prompt; the original prompt is not on it.',
    query: { limit: '20' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the edited prompt and its reply, not the original prompt', () => {
        const ids = body.items.map((m) => m.id);
        pm.expect(ids).to.eql([pm.variables.get('editReplyId'), pm.variables.get('editedMessageId')]);
        pm.expect(ids).to.not.include(pm.variables.get('messageId'));
        pm.expect(body.items[1].content).to.eql('Plan a day in Porto');
      });
    `,
    expect: 200,
  },
  {
    op: 'updateChatroom',
    key: 'updateChatroom:switchBranch',
    folder: 'Messages',
    name: 'Switch back to the original prompt',
    note: '`currentMessageId` = the original prompt (`messageId`): the newest leaf beneath it, the regenerated reply (`replyId`), becomes current.',
    body: { currentMessageId: '{{messageId}}' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the current message is the newest reply to the original prompt', () => {
        pm.expect(body.id).to.eql(pm.variables.get('chatroomId'));
        pm.expect(body.currentMessageId).to.eql(pm.variables.get('replyId'));
      });
    `,
    expect: 200,
  },
  {
    op: 'listMessages',
    key: 'listMessages:originalBranch',
    name: 'The current branch again: the original prompt',
    query: { limit: '20' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the original prompt and its regenerated reply, not the edited prompt', () => {
        const ids = body.items.map((m) => m.id);
        pm.expect(ids).to.eql([pm.variables.get('replyId'), pm.variables.get('messageId')]);
        pm.expect(ids).to.not.include(pm.variables.get('editedMessageId'));
        pm.expect(body.items[1].content).to.eql('Plan a day in Lisbon');
        pm.expect(body.items[1].siblings).to.include({ index: 1, count: 2, nextId: pm.variables.get('editedMessageId') });
      });
    `,
    expect: 200,
  },

  {
    op: 'exportChatroom',
    // Runs with the messages: the export is worth checking once the chatroom has its branches.
    folder: 'Messages',
    note: 'The chatroom with every branch (`format=json`, the default). Stores the export, as text, in `exportedChatroom` for the import that follows.',
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the chatroom export format, with the title and both branches', () => {
        pm.expect(body.format).to.eql('gemini-chat.chatroom');
        pm.expect(body.version).to.eql(1);
        pm.expect(body.chatroom.title).to.eql('Lisbon trip');
        const prompts = body.messages.filter((m) => m.role === 'user').map((m) => m.content);
        pm.expect(prompts).to.include.members(['Plan a day in Lisbon', 'Plan a day in Porto']);
        pm.expect(body.messages.length).to.be.at.least(5);
        pm.expect(body.chatroom.currentMessageId).to.be.oneOf(body.messages.map((m) => m.id));
      });
      pm.collectionVariables.set('exportedChatroom', pm.response.text());
    `,
    expect: 200,
  },
  {
    op: 'importChatrooms',
    folder: 'Messages',
    note: 'Sends `exportedChatroom` back: a new chatroom with the same messages (new ids).',
    rawBody: '{{exportedChatroom}}',
    headers: { 'idempotency-key': '{{$guid}}' },
    test: js`
      ${statusTest(201)}
      const body = pm.response.json();
      const exported = JSON.parse(pm.variables.get('exportedChatroom'));
      pm.test('one new chatroom holding every exported message', () => {
        pm.expect(body.chatrooms).to.have.lengthOf(1);
        pm.expect(body.chatrooms[0].id).to.match(${UUID_RE});
        pm.expect(body.chatrooms[0].id).to.not.eql(pm.variables.get('chatroomId'));
        pm.expect(body.chatrooms[0].title).to.eql(exported.chatroom.title);
        pm.expect(body.chatrooms[0].messageCount).to.eql(exported.messages.length);
        pm.expect(body.skipped).to.eql([]);
      });
    `,
    expect: 201,
  },

  // --- Billing (when the spec has it) ------------------------------------------------------------------------------
  {
    op: 'getSubscriptionStatus',
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('a new user: basic, no subscription', () => {
        pm.expect(body.tier).to.eql('basic');
        pm.expect(body.status).to.eql('none');
        pm.expect(body.cancelAtPeriodEnd).to.eql(false);
        pm.expect(body.usage.used).to.be.a('number');
      });
    `,
    expect: 200,
  },
  {
    op: 'subscribePro',
    note: 'Creates a Stripe Checkout Session; open `checkoutUrl` to pay (the local fake Stripe pays with one click). Without Stripe configured the server answers 503 BILLING_NOT_CONFIGURED, accepted unless `billingRequired` is `true`.',
    test: billingTest(
      201,
      js`
        pm.test('a Checkout URL and session id', () => {
          pm.expect(body.checkoutUrl).to.match(/^https?:\\/\\//);
          pm.expect(body.sessionId).to.be.a('string').and.not.empty;
        });
      `,
    ),
    expect: 201,
  },
  {
    op: 'createBillingPortalSession',
    note: 'Works once a checkout was started (the previous request). Same 503 rule as above.',
    test: billingTest(
      201,
      js`
        pm.test('a Billing Portal URL', () => pm.expect(body.url).to.match(/^https?:\\/\\//));
      `,
    ),
    expect: 201,
  },
  {
    op: 'receiveStripeWebhook',
    note: 'Called by Stripe, not by clients: without a valid `Stripe-Signature` the event is refused with 400 WEBHOOK_SIGNATURE_INVALID and nothing is stored (503 BILLING_NOT_CONFIGURED when billing is off).',
    body: { id: 'evt_unsigned_postman', type: 'checkout.session.completed', object: 'event' },
    test: unlessBillingOff(problemTest(400, 'WEBHOOK_SIGNATURE_INVALID')),
    expect: 400,
    problem: { code: 'WEBHOOK_SIGNATURE_INVALID', detail: 'The Stripe-Signature header is missing, stale, or does not match the body.' },
  },

  // --- Operations ----------------------------------------------------------------------------------------------------
  {
    op: 'health',
    test: js`
      ${statusTest(200)}
      pm.test('status ok', () => pm.expect(pm.response.json().status).to.eql('ok'));
    `,
    expect: 200,
  },
  {
    op: 'ready',
    test: js`
      ${statusTest(200)}
      pm.test('Postgres and Redis reachable', () => {
        const body = pm.response.json();
        pm.expect(body.status).to.eql('ok');
        pm.expect(body.checks).to.eql({ postgres: 'ok', redis: 'ok' });
      });
    `,
    expect: 200,
  },

  // --- Shares: a public copy of the chatroom's branch (its replies finished in Messages), read without a token ------
  {
    op: 'createShare',
    note: 'Shares the chatroom the run built (its replies are finished by now). Stores the share id in `shareId`.',
    test: js`
      ${statusTest(201)}
      const body = pm.response.json();
      pm.test('a v4 id, a public link to it, the finished messages of the branch', () => {
        pm.expect(body.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        pm.expect(body.url).to.match(new RegExp('/s/' + body.id + '$'));
        pm.expect(body.chatroomId).to.eql(pm.variables.get('chatroomId'));
        pm.expect(body.messageCount).to.be.at.least(2);
      });
      if (body.id) pm.collectionVariables.set('shareId', body.id);
    `,
    expect: 201,
  },
  {
    op: 'getPublicShare',
    note: 'No token: anyone with the link reads it.',
    headers: { accept: 'application/json' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('title, messages and time only: nothing about who shared it', () => {
        pm.expect(Object.keys(body).sort()).to.eql(['createdAt', 'messages', 'title']);
        pm.expect(body.messages).to.be.an('array').that.is.not.empty;
        body.messages.forEach((m) => pm.expect(Object.keys(m).sort()).to.eql(['content', 'createdAt', 'role']));
      });
      pm.test('never cached, not indexed', () => {
        pm.expect(pm.response.headers.get('Cache-Control')).to.eql('no-store');
        pm.expect(pm.response.headers.get('X-Robots-Tag')).to.include('noindex');
      });
    `,
    expect: 200,
  },
  {
    op: 'getPublicShare',
    key: 'getPublicShare:html',
    name: 'Read a shared conversation as a browser does (HTML)',
    note: 'With `Accept: text/html`: the read-only page.',
    headers: { accept: 'text/html' },
    test: js`
      ${statusTest(200)}
      pm.test('an HTML page with a strict Content-Security-Policy and no script', () => {
        pm.expect(pm.response.headers.get('Content-Type')).to.include('text/html');
        pm.expect(pm.response.headers.get('Content-Security-Policy')).to.include("default-src 'none'");
        pm.expect(pm.response.text()).to.not.include('<script');
        pm.expect(pm.response.text()).to.include('<meta name="robots" content="noindex');
      });
    `,
    expect: 200,
  },
  {
    op: 'listShares',
    test: js`
      ${statusTest(200)}
      pm.test('the share is listed', () => {
        pm.expect(pm.response.json().items.map((s) => s.id)).to.include(pm.variables.get('shareId'));
      });
    `,
    expect: 200,
  },
  {
    op: 'deleteShare',
    note: 'Revokes `shareId`.',
    test: js`
      ${statusTest(204)}
      pm.test('no body', () => pm.expect(pm.response.text()).to.eql(''));
    `,
    expect: 204,
  },
  {
    op: 'getPublicShare',
    key: 'getPublicShare:revoked',
    name: 'The revoked share is gone (404)',
    headers: { accept: 'application/json' },
    ...expectProblem(404, 'SHARE_NOT_FOUND', 'Share not found.'),
  },

  // --- API keys: a key works where a client reads and writes chats, not on account routes; revoked, it is dead ------
  {
    op: 'createApiKey',
    note: 'Stores the key (shown only here) in `apiKey` and its id in `apiKeyId`.',
    body: { name: 'Postman run', expiresInDays: 1 },
    test: js`
      ${statusTest(201)}
      const body = pm.response.json();
      pm.test('the key itself, once, and what identifies it later', () => {
        pm.expect(body.id).to.match(${UUID_RE});
        pm.expect(body.name).to.eql('Postman run');
        pm.expect(body.key).to.match(/^gck_[0-9A-Za-z]{43}$/);
        pm.expect(body.key.startsWith(body.prefix)).to.eql(true);
        pm.expect(Date.parse(body.expiresAt)).to.be.above(Date.now());
        pm.expect(body.lastUsedAt).to.eql(null);
      });
      if (body.key) pm.collectionVariables.set('apiKey', body.key);
      if (body.id) pm.collectionVariables.set('apiKeyId', body.id);
    `,
    expect: 201,
  },
  {
    op: 'listApiKeys',
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the new key is listed, without the key itself', () => {
        const key = body.items.find((k) => k.id === pm.variables.get('apiKeyId'));
        pm.expect(key, 'the new key').to.be.an('object');
        pm.expect(key.name).to.eql('Postman run');
        pm.expect(key).to.not.have.property('key');
      });
    `,
    expect: 200,
  },
  {
    op: 'listChatrooms',
    key: 'listChatrooms:apiKey',
    folder: 'API keys',
    name: 'List chatrooms with the API key',
    note: 'Sends `Authorization: Bearer {{apiKey}}` instead of the access token: chatroom routes accept keys.',
    bearer: '{{apiKey}}',
    query: { limit: '20' },
    test: js`
      ${statusTest(200)}
      pm.test("the key reads its owner's chatrooms", () => {
        pm.expect(pm.response.json().items.map((room) => room.id)).to.include(pm.variables.get('chatroomId'));
      });
    `,
    expect: 200,
  },
  {
    op: 'getMe',
    key: 'getMe:apiKey',
    folder: 'API keys',
    name: 'An API key is refused on an account route (403)',
    note: 'Account routes take only an access token.',
    bearer: '{{apiKey}}',
    ...expectProblem(403, 'API_KEY_NOT_ALLOWED', 'API keys cannot be used on this route; sign in and use an access token.'),
  },
  {
    op: 'revokeApiKey',
    note: 'Revokes `apiKeyId`.',
    test: js`
      ${statusTest(204)}
      pm.test('no body', () => pm.expect(pm.response.text()).to.eql(''));
    `,
    expect: 204,
  },
  {
    op: 'listChatrooms',
    key: 'listChatrooms:apiKeyRevoked',
    folder: 'API keys',
    name: 'The revoked API key is refused (401)',
    bearer: '{{apiKey}}',
    query: { limit: '20' },
    ...expectProblem(401, 'INVALID_API_KEY', 'The API key is invalid, expired or revoked.'),
  },

  // --- Files: upload the fixture, read it back, delete it ---------------------------------------------------------------
  {
    op: 'uploadFile',
    note: 'Sends `postman/fixtures/hello.txt` as the `file` part (newman reads it relative to its --working-dir, the repository root; in the Postman app, pick the file in the Body tab). Stores the file in `fileId` and its hash in `fileSha256`.',
    formdata: [{ key: 'file', src: 'postman/fixtures/hello.txt' }],
    test: js`
      ${statusTest(201)}
      const body = pm.response.json();
      pm.test('the file with the type detected from its bytes', () => {
        pm.expect(body.id).to.match(${UUID_RE});
        pm.expect(body.name).to.eql('hello.txt');
        pm.expect(body.mimeType).to.eql('text/plain');
        pm.expect(body.sizeBytes).to.be.above(0);
        pm.expect(body.sha256).to.match(/^[0-9a-f]{64}$/);
      });
      if (body.id) pm.collectionVariables.set('fileId', body.id);
      if (body.sha256) pm.collectionVariables.set('fileSha256', body.sha256);
    `,
    expect: 201,
  },
  {
    op: 'getFile',
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the uploaded file', () => {
        pm.expect(body.id).to.eql(pm.variables.get('fileId'));
        pm.expect(body.mimeType).to.eql('text/plain');
        pm.expect(body.sha256).to.eql(pm.variables.get('fileSha256'));
      });
    `,
    expect: 200,
  },
  {
    op: 'listFiles',
    query: { limit: '20' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the file is listed', () => {
        pm.expect(body.items.map((f) => f.id)).to.include(pm.variables.get('fileId'));
        pm.expect(body).to.have.property('nextCursor');
      });
    `,
    expect: 200,
  },
  {
    op: 'getFileContent',
    note: 'Downloads the bytes as an attachment.',
    test: js`
      ${statusTest(200)}
      pm.test('the uploaded bytes', () => pm.expect(pm.response.text()).to.include('Hello from the Postman run'));
      pm.test('served as the detected type, as an attachment, never sniffed', () => {
        pm.expect(pm.response.headers.get('Content-Type')).to.include('text/plain');
        pm.expect(pm.response.headers.get('Content-Disposition')).to.match(/^attachment;/);
        pm.expect(pm.response.headers.get('Content-Disposition')).to.include('hello.txt');
        pm.expect(pm.response.headers.get('X-Content-Type-Options')).to.eql('nosniff');
      });
      pm.test('the ETag is the sha256', () => pm.expect(pm.response.headers.get('ETag')).to.include(pm.variables.get('fileSha256')));
    `,
    expect: 200,
  },
  {
    op: 'deleteFile',
    note: 'Deletes `fileId`.',
    test: js`
      ${statusTest(204)}
      pm.test('no body', () => pm.expect(pm.response.text()).to.eql(''));
    `,
    expect: 204,
  },
  {
    op: 'getFile',
    key: 'getFile:deleted',
    name: 'The deleted file is gone (404)',
    ...expectProblem(404, 'FILE_NOT_FOUND', 'File not found.'),
  },

  // --- Search: finds a word of the edited prompt sent in Messages ---------------------------------------------------
  {
    op: 'search',
    note: 'Searches for `Porto`, a word only the edited prompt (`editedMessageId`) has.',
    query: { q: 'Porto', limit: '20' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the edited prompt is found, the word highlighted', () => {
        const hit = body.items.find((h) => h.messageId === pm.variables.get('editedMessageId'));
        pm.expect(hit, 'a hit on the edited prompt').to.be.an('object');
        pm.expect(hit.chatroomId).to.eql(pm.variables.get('chatroomId'));
        pm.expect(hit.role).to.eql('user');
        pm.expect(hit.highlights).to.be.an('array').that.is.not.empty;
        pm.expect(hit.snippet.slice(hit.highlights[0].start, hit.highlights[0].end)).to.eql('Porto');
      });
    `,
    expect: 200,
  },

  // --- Finish: deletes the chatroom, resets the password, signs out ------------------------------------------------
  {
    op: 'deleteChatroom',
    folder: FINISH_FOLDER,
    test: js`
      ${statusTest(204)}
      pm.test('no body', () => pm.expect(pm.response.text()).to.eql(''));
    `,
    expect: 204,
  },
  {
    op: 'getChatroom',
    key: 'getChatroom:deleted',
    folder: FINISH_FOLDER,
    name: 'The deleted chatroom is gone (404)',
    ...expectProblem(404, 'CHATROOM_NOT_FOUND', 'Chatroom not found.'),
  },
  {
    op: 'forgotPassword',
    folder: FINISH_FOLDER,
    note: 'Stores the password-reset OTP in `otp` for the next request.',
    body: { mobileNumber: '{{mobileNumber}}' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      ${otpChallengeTest}
    `,
    expect: 200,
  },
  {
    op: 'resetPassword',
    folder: FINISH_FOLDER,
    note: 'Sets `newPassword` with the reset OTP; every session is revoked.',
    body: { mobileNumber: '{{mobileNumber}}', otp: '{{otp}}', newPassword: '{{newPassword}}' },
    test: js`
      ${statusTest(204)}
      pm.test('no body', () => pm.expect(pm.response.text()).to.eql(''));
    `,
    expect: 204,
  },
  {
    op: 'getMe',
    key: 'getMe:revoked',
    folder: FINISH_FOLDER,
    name: 'The old access token no longer works (401)',
    note: 'The password reset revoked the session this access token belongs to.',
    ...expectProblem(401, 'SESSION_REVOKED', 'This session has been signed out or revoked; sign in again.'),
  },
  {
    op: 'login',
    key: 'login:newPassword',
    folder: FINISH_FOLDER,
    name: 'Sign in with the new password',
    body: { mobileNumber: '{{mobileNumber}}', password: '{{newPassword}}' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      ${storeTokens}
    `,
    expect: 200,
  },
  {
    op: 'logout',
    folder: FINISH_FOLDER,
    note: 'Revokes `refreshToken` and its session.',
    body: { refreshToken: '{{refreshToken}}' },
    test: js`
      ${statusTest(204)}
      pm.test('no body', () => pm.expect(pm.response.text()).to.eql(''));
    `,
    expect: 204,
  },
  {
    op: 'refreshTokens',
    key: 'refreshTokens:afterLogout',
    folder: FINISH_FOLDER,
    name: 'A logged-out refresh token is refused (401)',
    body: { refreshToken: '{{refreshToken}}' },
    ...expectProblem(401, 'REFRESH_TOKEN_INVALID', 'The refresh token is invalid, expired or revoked; sign in again.'),
  },
  {
    op: 'login',
    key: 'login:beforeDelete',
    folder: FINISH_FOLDER,
    name: 'Sign in again to delete the account',
    body: { mobileNumber: '{{mobileNumber}}', password: '{{newPassword}}' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      ${storeTokens}
    `,
    expect: 200,
  },
  {
    op: 'sendOtp',
    key: 'sendOtp:deleteAccount',
    folder: FINISH_FOLDER,
    name: 'Request the account-deletion OTP',
    note: '`purpose: delete_account`: a code for DELETE /user/me that signs nobody in; stored in `otp`.',
    body: { mobileNumber: '{{mobileNumber}}', purpose: 'delete_account' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      ${otpChallengeTest}
    `,
    expect: 200,
  },
  {
    op: 'deleteAccount',
    folder: FINISH_FOLDER,
    note: 'The last request that changes anything: deletes the account with the deletion OTP; every session is revoked.',
    body: { otp: '{{otp}}' },
    test: js`
      ${statusTest(204)}
      pm.test('no body', () => pm.expect(pm.response.text()).to.eql(''));
    `,
    expect: 204,
  },
  {
    op: 'getMe',
    key: 'getMe:accountDeleted',
    folder: FINISH_FOLDER,
    name: 'The deleted account\'s token is refused (401)',
    note: 'The deletion revoked every session of the account.',
    ...expectProblem(401, 'SESSION_REVOKED', 'This session has been signed out or revoked; sign in again.'),
  },
];
