import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '@gemini-chat/fakes';
import { pngFixture, startStack, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '@gemini-chat/worker/worker';
// The SDK from its source: its package exports point at dist/, a build these tests do not need.
import { createClient } from '../../../packages/sdk/src/index.js';
import { buildWebChat } from '../build.js';
import { startWebChatServer, type WebChatServer } from '../serve.js';

// The web page in headless Chromium against a live API, worker, fake Gemini and fake Stripe: sign in with the
// OTP the page shows, create a chatroom, watch a reply being written, upgrade to Pro through Checkout; attach files
// to a prompt and see the model's reply speak of them.

// `npm test` finds Chromium, or installs Debian's package when it can, and passes it in CHROMIUM_PATH. Without a
// browser this test fails under CI; elsewhere it is skipped with a line saying what to install.
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const WEBHOOK_SECRET = 'whsec_web_chat_e2e';

let stripe: FakeStripe | undefined;
let web: WebChatServer | undefined;
let stack: Stack | undefined;
/** Every browser profile a test opened, closed at the end. */
const contexts: BrowserContext[] = [];
let apiUrl: string;
let scratch: string | undefined;
/** Uncaught errors in the page: there must be none. */
const pageErrors: string[] = [];
const poll = { timeout: 10_000 };
const newMobileNumber = () => `+1415${randomInt(200, 1000)}${String(randomInt(0, 10_000)).padStart(4, '0')}`;
const mobileNumber = newMobileNumber();

const missingChromium = existsSync(CHROMIUM)
  ? undefined
  : `Chromium is not installed at ${CHROMIUM}: install it (Debian/Ubuntu: sudo apt-get install chromium; macOS: brew install --cask chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary.`;
const skipped = missingChromium !== undefined && !process.env.CI;
if (skipped) console.warn(`\nSKIPPED the web example's browser test. ${missingChromium}\n`);

beforeAll(async () => {
  if (missingChromium) return; // under CI the test fails with that message; elsewhere it is skipped
  scratch = await mkdtemp(join(tmpdir(), 'web-chat-e2e-'));
  const dist = join(scratch, 'dist');
  const built = buildWebChat(dist);
  // The page's server first: its address is where Stripe Checkout sends the customer back.
  web = await startWebChatServer({ apiUrl: '', distDir: dist });
  stripe = await startFakeStripe({ webhookSecret: WEBHOOK_SECRET });
  stack = await startStack({
    STRIPE_SECRET_KEY: 'sk_test_web_chat_e2e',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE_URL: stripe.url,
    BILLING_SUCCESS_URL: `${web.url}/?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
    BILLING_CANCEL_URL: `${web.url}/?checkout=cancelled`,
  }, { startWorker });
  apiUrl = await stack.app.listen({ port: 0, host: '127.0.0.1' });
  stripe.setWebhookEndpoint({ url: `${apiUrl}/webhook/stripe` });
  web.config.apiUrl = apiUrl;
  await built;
});

afterAll(async () => {
  // Everything is stopped whatever failed, in reverse order.
  for (const context of contexts) await context.close().catch(() => undefined);
  await stripe?.webhooksIdle().catch(() => undefined);
  await stack?.close();
  await stripe?.close();
  await web?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/**
 * The page in a fresh browser profile (no sandbox for containers, nothing that phones home). On a failure, a
 * screenshot `<name>-failure.png` goes to web-chat/artifacts/ (CI uploads it).
 */
async function openPage(name: string, onTestFailed: (fn: () => Promise<void>) => void): Promise<Page> {
  if (missingChromium) throw new Error(missingChromium);
  const context = await chromium.launchPersistentContext(join(scratch!, `profile-${name}`), {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1100, height: 700 },
    timeout: 15_000,
  });
  contexts.push(context);
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await rm(join(ARTIFACTS, `${name}-failure.png`), { force: true });
  onTestFailed(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, `${name}-failure.png`), fullPage: true }).catch(() => undefined);
  });
  await page.goto(web!.url);
  return page;
}

/** Signs in on the page: development mode shows the code and fills it in. */
async function signIn(page: Page, number: string) {
  await page.getByTestId('mobile').fill(number);
  await page.getByTestId('send-code').click();
  const devOtp = page.getByTestId('dev-otp');
  await expect.poll(() => devOtp.textContent(), poll).toMatch(/^Development mode: your code is \d{6}$/);
  const code = (await devOtp.textContent())!.slice(-6);
  expect(await page.getByTestId('otp').inputValue()).toBe(code);
  await page.getByTestId('verify').click();
  await expect.poll(() => page.getByTestId('plan').textContent(), poll).toBe('basic');
}

/** The test's own session for the same number, to read what the API stored. */
async function reader(number: string) {
  const client = createClient({ baseUrl: apiUrl });
  await client.auth.verifyOtp({ mobileNumber: number, otp: (await client.auth.sendOtp({ mobileNumber: number })).otp! });
  return client;
}

describe.skipIf(skipped)('the web chat page', () => {
  it('signs in with the OTP it shows, streams a reply into the page and upgrades to Pro', async ({ onTestFailed }) => {
    const page = await openPage('e2e', onTestFailed);
    await signIn(page, mobileNumber);
    expect(await page.getByTestId('quota').textContent()).toBe('0/5 prompts today');

    // A chatroom, and a prompt answered slowly enough to watch.
    await page.getByTestId('new-room').click();
    await expect.poll(() => page.getByTestId('rooms').locator('button').allTextContents(), poll).toEqual(['New chat']);
    await page.getByTestId('prompt').fill('Plan a day in Lisbon [[chunks:6]] [[slow:80]]');
    await page.getByTestId('send').click();

    // Part of the reply is on the page while it is still being written...
    // (Evaluated in the page, on every animation frame.)
    const streamingText = `document.querySelector('[data-testid="reply"][data-status="streaming"] .text')?.textContent || false`;
    const partial = String(await (await page.waitForFunction(streamingText)).jsonValue());
    // ...and then all of it, exactly as stored.
    const reply = page.locator('[data-testid="reply"][data-status="completed"]');
    await reply.waitFor();
    const shown = await reply.locator('.text').textContent();
    const api = await reader(mobileNumber);
    const [room] = (await api.listChatrooms()).items;
    const [stored] = (await api.listMessages(room!.id, { limit: 1 })).items;
    expect(stored).toMatchObject({ role: 'assistant', status: 'completed', id: await reply.getAttribute('data-id') });
    expect(shown).toBe(stored!.content);
    expect(shown).toContain('You said: "Plan a day in Lisbon"');
    expect(partial.length).toBeLessThan(shown!.length);
    expect(shown!.startsWith(partial)).toBe(true);
    expect(await page.getByTestId('quota').textContent()).toBe('1/5 prompts today');
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'e2e.png'), fullPage: true });

    // Upgrade: Checkout (the fake Stripe's page), Pay, back on the page as a Pro user.
    await page.getByTestId('upgrade').click();
    await page.waitForURL((url) => url.href.startsWith(stripe!.url));
    await page.getByTestId('pay').click();
    await page.waitForURL((url) => url.href.startsWith(web!.url));
    await expect.poll(() => page.getByTestId('notice').textContent(), poll).toMatch(/^You are on Pro, renews /);
    expect(await page.getByTestId('plan').textContent()).toBe('pro · active');
    expect(await page.getByTestId('quota').textContent()).toBe('1/1000 prompts today');
    expect(await page.getByTestId('upgrade').isHidden()).toBe(true);
    expect(new URL(page.url()).search).toBe(''); // the return parameters are cleaned up
    // The chatroom that was open is open again, its reply loaded from the history.
    await expect.poll(() => page.locator('[data-testid="reply"][data-status="completed"] .text').allTextContents(), poll).toEqual([stored!.content]);
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-pro.png'), fullPage: true });
    expect(await api.getSubscriptionStatus()).toMatchObject({ tier: 'pro', status: 'active' });
    await api.logout();
    expect(pageErrors).toEqual([]);
  });

  it('attaches files to a prompt as removable chips, sends them, and the reply speaks of the image', async ({ onTestFailed }) => {
    const number = newMobileNumber();
    const page = await openPage('attachments', onTestFailed);
    await signIn(page, number);
    await page.getByTestId('new-room').click();
    await page.getByTestId('prompt').waitFor();

    // Two files chosen at once: each uploaded, each a chip.
    const png = pngFixture(64, 64);
    await page.getByTestId('attach-input').setInputFiles([
      { name: 'chart.png', mimeType: 'image/png', buffer: png },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not this one\n') },
    ]);
    const chips = page.getByTestId('pending-file');
    await expect.poll(() => chips.locator('.name').allTextContents(), poll).toEqual(['chart.png', 'notes.txt']);
    const api = await reader(number);
    expect((await api.listFiles()).items.map((f) => f.name).sort()).toEqual(['chart.png', 'notes.txt']);

    // Removing a chip drops it from the prompt and deletes the unsent file.
    await chips.filter({ hasText: 'notes.txt' }).getByTestId('remove-file').click();
    await expect.poll(() => chips.locator('.name').allTextContents(), poll).toEqual(['chart.png']);
    await expect.poll(async () => (await api.listFiles()).items.map((f) => f.name), poll).toEqual(['chart.png']);
    const [image] = (await api.listFiles()).items;
    expect(image).toMatchObject({ mimeType: 'image/png', sizeBytes: png.length });

    // A file the API does not take: a notice, no chip.
    await page.getByTestId('attach-input').setInputFiles([{ name: 'tool.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ\x90\x00 not an image') }]);
    await expect.poll(() => page.getByTestId('notice').textContent(), poll).toMatch(/^tool\.exe: .+/);
    expect(await chips.locator('.name').allTextContents()).toEqual(['chart.png']);

    await page.getByTestId('prompt').fill('What does this chart show?');
    await page.getByTestId('send').click();
    const reply = page.locator('[data-testid="reply"][data-status="completed"]');
    await reply.waitFor();
    // Sent: the chips are gone and the prompt lists its file.
    expect(await page.getByTestId('pending-files').isHidden()).toBe(true);
    const promptFiles = page.getByTestId('prompt-message').getByTestId('message-attachment');
    expect(await promptFiles.allTextContents()).toEqual(['chart.png']);
    const [room] = (await api.listChatrooms()).items;
    const [storedReply, storedPrompt] = (await api.listMessages(room!.id)).items;
    expect(storedPrompt).toMatchObject({ content: 'What does this chart show?', attachments: [{ id: image!.id, name: 'chart.png', deleted: false }] });
    expect(await reply.locator('.text').textContent()).toBe(storedReply!.content);

    // Deleted since: the prompt still lists it, marked deleted, when the chatroom is opened again.
    await api.deleteFile(image!.id);
    await page.getByTestId('rooms').locator('button').first().click();
    await expect.poll(() => promptFiles.allTextContents(), poll).toEqual(['chart.png (deleted)']);
    expect(await promptFiles.first().getAttribute('data-deleted')).toBe('true');
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'attachments.png'), fullPage: true });
    expect(pageErrors).toEqual([]);

    // The model saw the image: the fake Gemini's reply to a prompt with media starts by naming each file it received.
    expect(storedReply!.content).toMatch(/^I received 1 file: image\/png 64x64 \(\d+ bytes, sha256 [0-9a-f]{12}\)/);
    await api.logout();
  });
});
