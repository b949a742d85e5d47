// The fake Stripe as a process, for offline development next to the API:
//   FAKE_STRIPE_WEBHOOK_SECRET=whsec_… FAKE_STRIPE_WEBHOOK_URL=http://127.0.0.1:3000/webhook/stripe tsx packages/fakes/src/stripe/main.ts
// Point the app's stripe client at the logged host and port with protocol http.
import { DEFAULT_PRICES, startFakeStripe } from './fake-stripe.js';

const SHUTDOWN_TIMEOUT_MS = 5000;

// This process is not part of the app, so it has no loadConfig(); these few variables are its whole config.
const env = process.env;

function fail(message: string): never {
  console.error(`fake stripe: ${message}`);
  process.exit(1);
}

const port = Number(env.FAKE_STRIPE_PORT ?? 12111);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`FAKE_STRIPE_PORT must be a port number, got ${env.FAKE_STRIPE_PORT}`);
const webhookSecret = env.FAKE_STRIPE_WEBHOOK_SECRET ?? '';
if (!webhookSecret.startsWith('whsec_')) {
  fail('FAKE_STRIPE_WEBHOOK_SECRET must be set to the webhook secret (whsec_…) the app verifies with');
}
const webhookUrl = env.FAKE_STRIPE_WEBHOOK_URL || undefined;
if (webhookUrl) {
  try {
    new URL(webhookUrl);
  } catch {
    fail(`FAKE_STRIPE_WEBHOOK_URL is not a URL: ${webhookUrl}`);
  }
}
const defaultPrice = DEFAULT_PRICES[0];
const priceId = env.FAKE_STRIPE_PRICE_ID || defaultPrice?.id || 'price_pro_monthly';
const unitAmount = Number(env.FAKE_STRIPE_PRICE_AMOUNT ?? defaultPrice?.unitAmount ?? 1000);
if (!Number.isInteger(unitAmount) || unitAmount < 0) fail('FAKE_STRIPE_PRICE_AMOUNT must be an amount in cents');

const fake = await startFakeStripe({
  port,
  host: env.FAKE_STRIPE_HOST || '127.0.0.1',
  publicUrl: env.FAKE_STRIPE_PUBLIC_URL || undefined,
  webhookUrl,
  webhookSecret,
  prices: [{ ...defaultPrice, id: priceId, unitAmount, currency: env.FAKE_STRIPE_PRICE_CURRENCY || defaultPrice?.currency }],
  // A briefly unavailable app (restarting under a watcher) still gets its events.
  maxDeliveryAttempts: 3,
  retryDelayMs: 500,
  log: (line) => console.log(line),
}).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));

console.log(
  `fake stripe listening on ${fake.url} (stripe-node: host ${fake.host}, port ${fake.port}, protocol http); ` +
    `price ${priceId}; webhooks → ${webhookUrl ?? 'nowhere (set FAKE_STRIPE_WEBHOOK_URL)'}`,
);

let closing = false;
async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  console.log(`fake stripe: ${signal}, shutting down`);
  const timer = setTimeout(() => {
    console.error('fake stripe: shutdown timed out');
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS);
  timer.unref();
  await fake.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
