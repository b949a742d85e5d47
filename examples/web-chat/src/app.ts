// The web chat page: sign in with a one-time code, chatrooms, prompts with attached files, replies appended as they
// are written, and the Pro upgrade through Stripe Checkout. Bundled for the browser by ../build.ts; the API's address comes from config.js.
//
// The SDK is imported from its source (esbuild bundles it); an app of your own imports '@gemini-chat/sdk'.
import { createClient, GeminiChatError, type Schemas, type TokenPair, type TokenStore } from '../../../packages/sdk/src/index.js';

type Chatroom = Schemas['Chatroom'];
type Message = Schemas['Message'];
type UploadedFile = Schemas['File'];
type Usage = Pick<Schemas['Usage'], 'used' | 'limit'>;

declare global {
  interface Window {
    GEMINI_CHAT_CONFIG?: { apiUrl?: string };
  }
}

const apiUrl = window.GEMINI_CHAT_CONFIG?.apiUrl || 'http://127.0.0.1:3000';

// Tokens in localStorage: the session survives a reload and the trip to Stripe Checkout and back.
const TOKENS_KEY = 'gemini-chat.tokens';
let signingOut = false;
const tokenStore: TokenStore = {
  get: () => JSON.parse(localStorage.getItem(TOKENS_KEY) ?? 'null') as TokenPair | null,
  set: (tokens) => {
    if (tokens) localStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
    else {
      localStorage.removeItem(TOKENS_KEY);
      if (!signingOut) showSignIn('Your session ended: sign in again.'); // refresh refused (expired, revoked)
    }
  },
};
const client = createClient({ baseUrl: apiUrl, tokenStore });

// ---- elements -----------------------------------------------------------------------------------------------

const $ = <T extends HTMLElement>(selector: string) => {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`missing element ${selector}`);
  return element;
};
const ui = {
  account: $('#account'),
  who: $('#who'),
  plan: $('#plan'),
  quota: $('#quota'),
  upgrade: $<HTMLButtonElement>('#upgrade'),
  signOut: $<HTMLButtonElement>('#sign-out'),
  notice: $('#notice'),
  signIn: $('#sign-in'),
  phoneForm: $<HTMLFormElement>('#phone-form'),
  codeForm: $<HTMLFormElement>('#code-form'),
  codeTarget: $('#code-target'),
  devOtp: $('#dev-otp'),
  codeBack: $<HTMLButtonElement>('#code-back'),
  chat: $('#chat'),
  newRoom: $<HTMLButtonElement>('#new-room'),
  rooms: $('#rooms'),
  roomTitle: $('#room-title'),
  messages: $('#messages'),
  promptForm: $<HTMLFormElement>('#prompt-form'),
  attach: $<HTMLInputElement>('#attach'),
  pendingFiles: $('#pending-files'),
  send: $<HTMLButtonElement>('#send'),
  stop: $<HTMLButtonElement>('#stop'),
};
const field = (form: HTMLFormElement, name: string) => form.elements.namedItem(name) as HTMLInputElement | HTMLTextAreaElement;

function notify(text: string, kind: 'info' | 'error' = 'info') {
  ui.notice.textContent = text;
  ui.notice.className = kind;
  ui.notice.hidden = !text;
}

function explain(err: unknown): string {
  if (err instanceof GeminiChatError) {
    switch (err.code) {
      case 'QUOTA_EXCEEDED':
        return `Today's prompts are used up (more in ${Math.ceil((err.retryAfterSeconds ?? 0) / 3600)} h). Upgrade to Pro for more.`;
      case 'CHATROOM_BUSY':
        return 'A reply in this chat is still being written: wait for it, or stop it.';
      case 'UNSUPPORTED_MEDIA_TYPE':
      case 'FILE_TYPE_MISMATCH':
        return `${err.detail} Images, PDFs, text and audio files can be attached.`;
      case 'FILE_TOO_LARGE':
      case 'STORAGE_QUOTA_EXCEEDED':
      case 'FILE_NOT_FOUND':
        return err.detail;
      case 'VALIDATION_FAILED':
        return err.errors.map((e) => e.message).join('; ') || err.detail;
      default:
        return `${err.detail} (${err.code}${err.requestId ? `, request ${err.requestId}` : ''})`;
    }
  }
  if (err instanceof TypeError) return `Cannot reach the API at ${apiUrl}.`;
  return err instanceof Error ? err.message : String(err);
}

/** Runs a UI action, turning any failure into a notice. */
function guarded<A extends unknown[]>(action: (...args: A) => Promise<void>) {
  return (...args: A) => {
    action(...args).catch((err: unknown) => notify(explain(err), 'error'));
  };
}

// ---- sign-in ------------------------------------------------------------------------------------------------

let mobileNumber = '';

function showSignIn(message = '') {
  ui.account.hidden = true;
  ui.chat.hidden = true;
  ui.signIn.hidden = false;
  ui.phoneForm.hidden = false;
  ui.codeForm.hidden = true;
  notify(message);
}

ui.phoneForm.addEventListener(
  'submit',
  guarded(async (event: SubmitEvent) => {
    event.preventDefault();
    mobileNumber = field(ui.phoneForm, 'mobile').value.trim();
    const name = field(ui.phoneForm, 'name').value.trim();
    let challenge: Schemas['OtpChallenge'];
    try {
      challenge = (await client.auth.signup({ mobileNumber, ...(name ? { name } : {}) })).otpChallenge;
    } catch (err) {
      // A known number gets a login code instead.
      if (!(err instanceof GeminiChatError && err.code === 'MOBILE_NUMBER_TAKEN')) throw err;
      challenge = await client.auth.sendOtp({ mobileNumber });
    }
    ui.codeTarget.textContent = mobileNumber;
    // In development the API returns the code itself (OTP_DELIVERY=response): show it and fill it in.
    ui.devOtp.hidden = !challenge.otp;
    ui.devOtp.textContent = challenge.otp ? `Development mode: your code is ${challenge.otp}` : '';
    field(ui.codeForm, 'otp').value = challenge.otp ?? '';
    ui.phoneForm.hidden = true;
    ui.codeForm.hidden = false;
    notify('');
  }),
);

ui.codeForm.addEventListener(
  'submit',
  guarded(async (event: SubmitEvent) => {
    event.preventDefault();
    try {
      await client.auth.verifyOtp({ mobileNumber, otp: field(ui.codeForm, 'otp').value.trim() });
    } catch (err) {
      const left = err instanceof GeminiChatError ? (err.problem as { attemptsRemaining?: number } | undefined)?.attemptsRemaining : undefined;
      if (left !== undefined) return notify(`Wrong code: ${left} tries left.`, 'error');
      throw err;
    }
    await showChat();
  }),
);
ui.codeBack.addEventListener('click', () => showSignIn());

ui.signOut.addEventListener(
  'click',
  guarded(async () => {
    signingOut = true;
    stopWatching?.abort();
    try {
      await client.auth.logout();
    } finally {
      signingOut = false;
      current = undefined;
      pending = []; // the next user does not send these
      drawPending();
      localStorage.removeItem(ROOM_KEY);
      showSignIn('Signed out.');
    }
  }),
);

// ---- account and plan ---------------------------------------------------------------------------------------

function showUsage(usage: Usage) {
  ui.quota.textContent = usage.limit === null ? `${usage.used} prompts today` : `${usage.used}/${usage.limit} prompts today`;
}

async function refreshPlan(): Promise<Schemas['SubscriptionStatus']> {
  const status = await client.billing.status();
  ui.plan.textContent = status.status === 'none' ? status.tier : `${status.tier} · ${status.status}`;
  ui.plan.classList.toggle('pro', status.tier === 'pro');
  ui.upgrade.hidden = status.tier === 'pro';
  showUsage(status.usage);
  return status;
}

ui.upgrade.addEventListener(
  'click',
  guarded(async () => {
    ui.upgrade.disabled = true;
    try {
      const { checkoutUrl } = await client.billing.checkout();
      // Stripe Checkout; it sends the browser back to BILLING_SUCCESS_URL / BILLING_CANCEL_URL (see README).
      location.assign(checkoutUrl);
    } finally {
      ui.upgrade.disabled = false;
    }
  }),
);

/** Back from Checkout: the webhook may land a moment after the customer does, so poll briefly. */
async function returnFromCheckout(outcome: string) {
  history.replaceState(null, '', location.pathname);
  if (outcome !== 'success') return notify('Checkout cancelled: you are still on the free plan.');
  notify('Payment received: activating Pro…');
  for (let i = 0; i < 20; i++) {
    const status = await refreshPlan();
    if (status.tier === 'pro') {
      const until = status.currentPeriodEnd ? `, renews ${new Date(status.currentPeriodEnd).toLocaleDateString()}` : '';
      return notify(`You are on Pro${until}.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  notify('The payment has not been confirmed yet: reload this page in a minute.', 'error');
}

// ---- chatrooms ----------------------------------------------------------------------------------------------

const ROOM_KEY = 'gemini-chat.room';
let current: Chatroom | undefined;

async function showChat() {
  const me = await client.user.get();
  ui.who.textContent = me.name ? `${me.name} (${me.mobileNumber})` : me.mobileNumber;
  ui.signIn.hidden = true;
  ui.chat.hidden = false;
  ui.account.hidden = false;
  notify('');
  const [, rooms] = await Promise.all([refreshPlan(), refreshRooms()]);
  // Back from Checkout or a reload: the chatroom that was open.
  const last = rooms.find((room) => room.id === localStorage.getItem(ROOM_KEY));
  if (last) await openRoom(last);
}

async function refreshRooms(): Promise<Chatroom[]> {
  const { items } = await client.chatrooms.list({ limit: 50 });
  ui.rooms.replaceChildren(
    ...items.map((room) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = room.title;
      button.title = room.title;
      button.dataset.id = room.id;
      button.setAttribute('aria-current', String(room.id === current?.id));
      button.addEventListener('click', guarded(() => openRoom(room)));
      const item = document.createElement('li');
      item.append(button);
      return item;
    }),
  );
  return items;
}

ui.newRoom.addEventListener(
  'click',
  guarded(async () => {
    const room = await client.chatrooms.create();
    await openRoom(room);
    await refreshRooms();
  }),
);

async function openRoom(room: Chatroom) {
  stopWatching?.abort();
  current = room;
  localStorage.setItem(ROOM_KEY, room.id);
  ui.roomTitle.textContent = room.title;
  for (const button of ui.rooms.querySelectorAll('button')) button.setAttribute('aria-current', String(button.dataset.id === room.id));
  const detail = await client.chatrooms.get(room.id);
  ui.messages.replaceChildren();
  for (const message of [...detail.messages].reverse()) {
    if (message.role === 'user' || message.status === 'completed' || message.status === 'cancelled' || message.status === 'failed') {
      addMessage(message.role, message.content, message);
    } else {
      guarded(() => watch(room, message.id))(); // still being written: follow it
    }
  }
  ui.promptForm.hidden = false;
  field(ui.promptForm, 'prompt').focus();
}

// ---- attachments --------------------------------------------------------------------------------------------

/** The most files one prompt can carry (the API's limit). */
const MAX_ATTACHMENTS = 10;
/** Uploaded for the next prompt, in the order chosen; shown as chips above the prompt box. */
let pending: UploadedFile[] = [];
let uploading = 0;

const size = (bytes: number) =>
  bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} kB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function drawPending() {
  const chips = pending.map((file) => {
    const chip = document.createElement('li');
    chip.dataset.testid = 'pending-file';
    chip.dataset.id = file.id;
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = file.name;
    name.title = `${file.mimeType}, ${size(file.sizeBytes)}`;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'link';
    remove.textContent = '×';
    remove.setAttribute('aria-label', `Remove ${file.name}`);
    remove.dataset.testid = 'remove-file';
    remove.addEventListener(
      'click',
      guarded(async () => {
        pending = pending.filter((other) => other.id !== file.id);
        drawPending();
        // Never sent with a prompt, so nothing refers to it: free the storage it takes.
        await client.files.delete(file.id);
      }),
    );
    chip.append(name, remove);
    return chip;
  });
  if (uploading) {
    const busy = document.createElement('li');
    busy.dataset.testid = 'uploading';
    busy.textContent = `Uploading ${uploading} file${uploading === 1 ? '' : 's'}…`;
    chips.push(busy);
  }
  ui.pendingFiles.replaceChildren(...chips);
  ui.pendingFiles.hidden = chips.length === 0;
  ui.send.disabled = uploading > 0; // the ids are needed before the prompt can go
}

ui.attach.addEventListener(
  'change',
  guarded(async () => {
    const chosen = [...(ui.attach.files ?? [])];
    ui.attach.value = ''; // so that choosing the same file again is a change too
    if (pending.length + uploading + chosen.length > MAX_ATTACHMENTS) {
      return notify(`A prompt can carry at most ${MAX_ATTACHMENTS} files.`, 'error');
    }
    uploading += chosen.length;
    drawPending();
    // No claimed type (`type: ''`): browsers guess it from the extension with the system's own table (a CSV can be
    // "application/vnd.ms-excel"), while the API detects it from the bytes anyway.
    const results = await Promise.allSettled(chosen.map((file) => client.files.upload(file, { type: '' })));
    uploading -= chosen.length;
    const failed: string[] = [];
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') pending.push(result.value);
      else failed.push(`${chosen[i]!.name}: ${explain(result.reason)}`);
    });
    drawPending();
    notify(failed.join(' '), failed.length ? 'error' : 'info');
  }),
);

/** Downloads an attached file (its route needs the bearer token, so not a plain link). */
async function download(file: Schemas['MessageAttachment']) {
  const response = await client.files.download(file.id);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = file.name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function attachmentList(files: Schemas['MessageAttachment'][]): HTMLElement {
  const list = document.createElement('ul');
  list.className = 'attachments';
  for (const file of files) {
    const item = document.createElement('li');
    item.dataset.testid = 'message-attachment';
    item.dataset.deleted = String(file.deleted);
    const name = document.createElement(file.deleted ? 'span' : 'button');
    name.className = file.deleted ? 'name' : 'name link';
    name.textContent = file.name;
    name.title = file.deleted ? 'This file was deleted.' : `${file.mimeType}, ${size(file.sizeBytes)}: download`;
    if (name instanceof HTMLButtonElement) {
      name.type = 'button';
      name.addEventListener('click', guarded(() => download(file)));
    }
    item.append(name);
    if (file.deleted) {
      const note = document.createElement('small');
      note.textContent = ' (deleted)';
      item.append(note);
    }
    list.append(item);
  }
  return list;
}

// ---- messages and live replies ------------------------------------------------------------------------------

function addMessage(role: Message['role'], text: string, final?: Message) {
  const item = document.createElement('li');
  item.className = `msg ${role}`;
  if (role === 'assistant') item.dataset.testid = 'reply';
  else item.dataset.testid = 'prompt-message';
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  item.append(body);
  if (final?.attachments.length) item.append(attachmentList(final.attachments));
  if (final) finish(item, final);
  ui.messages.append(item);
  item.scrollIntoView({ block: 'end' });
  return item;
}

/** Marks a reply as final and notes how it ended. */
function finish(item: HTMLElement, message: Message) {
  item.dataset.status = message.status;
  item.dataset.id = message.id;
  if (message.role !== 'assistant') return;
  const parts: string[] = [message.status];
  if (message.error) parts.push(message.error.message);
  if (message.usage) parts.push(`${message.usage.inputTokens} in / ${message.usage.outputTokens} out tokens`);
  const meta = document.createElement('small');
  meta.className = 'meta';
  meta.textContent = parts.join(' · ');
  item.append(meta);
}

let stopWatching: AbortController | undefined;

/** Appends a reply's text as it arrives, until it ends (or the user leaves the chatroom). */
async function watch(room: Chatroom, replyId: string) {
  const item = addMessage('assistant', '');
  item.dataset.status = 'streaming';
  item.dataset.id = replyId;
  const text = item.querySelector('.text')!;
  const controller = new AbortController();
  stopWatching = controller;
  const stop = () => {
    ui.stop.disabled = true;
    client.messages.cancel(room.id, replyId).catch((err: unknown) => {
      if (!(err instanceof GeminiChatError && err.code === 'REPLY_ALREADY_FINISHED')) notify(explain(err), 'error');
    });
  };
  ui.stop.addEventListener('click', stop);
  ui.stop.hidden = false;
  ui.stop.disabled = false;
  try {
    for await (const event of client.replies.stream(room.id, replyId, { signal: controller.signal })) {
      if (event.type === 'delta') text.append(event.text);
      else if (event.type === 'reset') text.textContent = ''; // a retried model call starts over
      else finish(item, event.message); // done (completed or cancelled) or error (failed)
      item.scrollIntoView({ block: 'end' });
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    item.remove(); // left the chatroom: it is shown again, whole, when the chatroom is opened again
  } finally {
    ui.stop.removeEventListener('click', stop);
    ui.stop.hidden = true;
    if (stopWatching === controller) stopWatching = undefined;
  }
}

ui.promptForm.addEventListener(
  'submit',
  guarded(async (event: SubmitEvent) => {
    event.preventDefault();
    const room = current;
    const input = field(ui.promptForm, 'prompt');
    const content = input.value.trim();
    if (!room || !content) return;
    if (uploading) return notify('Wait for the files to finish uploading.');
    ui.send.disabled = true;
    try {
      const attachments = pending.map((file) => file.id);
      // The SDK gives the send an Idempotency-Key (also on plain-http pages), so a lost answer is retried safely.
      const result = await client.messages.send(room.id, { content, attachments });
      input.value = '';
      pending = [];
      drawPending();
      notify('');
      addMessage('user', content, result.prompt);
      showUsage(result.quota);
      await watch(room, result.reply.id);
      await refreshRooms(); // the first exchange gives the chatroom a title
    } finally {
      ui.send.disabled = uploading > 0;
    }
  }),
);
field(ui.promptForm, 'prompt').addEventListener('keydown', (event) => {
  if ((event as KeyboardEvent).key === 'Enter' && !(event as KeyboardEvent).shiftKey) {
    event.preventDefault();
    ui.promptForm.requestSubmit();
  }
});

// ---- start --------------------------------------------------------------------------------------------------

guarded(async () => {
  if (!(await tokenStore.get())) return showSignIn();
  try {
    await showChat();
  } catch (err) {
    // Stored tokens that no longer work: the store was emptied and the sign-in form is shown.
    if (err instanceof GeminiChatError && err.status === 401) return;
    throw err;
  }
  const outcome = new URLSearchParams(location.search).get('checkout');
  if (outcome) await returnFromCheckout(outcome);
})();
