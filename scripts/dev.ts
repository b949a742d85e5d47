// `npm run dev`: runs every process of the product on this machine, restarting each on code changes.
// Without GEMINI_API_KEY it also runs the local fake Gemini and points the worker's real SDK at it.
// Without STRIPE_SECRET_KEY it also runs the local fake Stripe (its Checkout page "pays" and sends signed webhooks
// to the API's POST /webhook/stripe) and points the API's real Stripe SDK at it.
import { spawn, type ChildProcess } from 'node:child_process';

interface DevProcess {
  name: string;
  entry: string;
  /** Loaded with --import before the entry: the tracing preload, a no-op unless OTEL_* turn tracing on. */
  preload?: string;
  env?: Record<string, string>;
}

const FAKE_GEMINI_PORT = process.env.FAKE_GEMINI_PORT ?? '8787';
const useFakeGemini = !process.env.GEMINI_API_KEY && !process.env.GEMINI_BASE_URL;
const fakeGeminiEnv: Record<string, string> = useFakeGemini
  ? { GEMINI_BASE_URL: `http://127.0.0.1:${FAKE_GEMINI_PORT}`, GEMINI_API_KEY: 'fake-gemini-key' }
  : {};

const FAKE_STRIPE_PORT = process.env.FAKE_STRIPE_PORT ?? '12111';
const useFakeStripe = !process.env.STRIPE_SECRET_KEY;
// Development only: the fake signs its webhooks with this and the API verifies with the same value.
const FAKE_STRIPE_WEBHOOK_SECRET = 'whsec_dev_fake_stripe_local_only';
const apiHost = !process.env.HOST || process.env.HOST === '0.0.0.0' ? '127.0.0.1' : process.env.HOST;
const apiUrl = `http://${apiHost}:${process.env.PORT ?? '3000'}`;

const PROCESSES: DevProcess[] = [
  ...(useFakeGemini
    ? [{ name: 'fake-gemini', entry: 'packages/fakes/src/gemini/main.ts', env: { FAKE_GEMINI_PORT, FAKE_GEMINI_CHUNK_DELAY_MS: process.env.FAKE_GEMINI_CHUNK_DELAY_MS ?? '40' } }]
    : []),
  ...(useFakeStripe
    ? [
        {
          name: 'fake-stripe',
          entry: 'packages/fakes/src/stripe/main.ts',
          env: {
            FAKE_STRIPE_PORT,
            FAKE_STRIPE_WEBHOOK_URL: `${apiUrl}/webhook/stripe`,
            FAKE_STRIPE_WEBHOOK_SECRET,
            FAKE_STRIPE_PRICE_ID: process.env.STRIPE_PRO_PRICE_ID ?? '',
          },
        },
      ]
    : []),
  {
    name: 'api',
    entry: 'packages/api/src/server.ts',
    preload: './packages/api/src/tracing.ts',
    // The API asks Gemini for its model list (GET /models), so it talks to the same Gemini as the worker.
    env: {
      ...fakeGeminiEnv,
      ...(useFakeStripe
        ? {
            STRIPE_SECRET_KEY: 'sk_test_fake_stripe_dev',
            STRIPE_WEBHOOK_SECRET: FAKE_STRIPE_WEBHOOK_SECRET,
            STRIPE_API_BASE_URL: `http://127.0.0.1:${FAKE_STRIPE_PORT}`,
          }
        : {}),
    },
  },
  {
    name: 'worker',
    entry: 'packages/worker/src/main.ts',
    preload: './packages/worker/src/tracing.ts',
    env: fakeGeminiEnv,
  },
];
if (useFakeGemini) console.log(`[dev] no GEMINI_API_KEY: replies come from the local fake Gemini on port ${FAKE_GEMINI_PORT}`);
if (useFakeStripe) console.log(`[dev] no STRIPE_SECRET_KEY: payments go to the local fake Stripe on port ${FAKE_STRIPE_PORT}`);

const children: ChildProcess[] = [];
for (const proc of PROCESSES) {
  const child = spawn('pnpm', ['exec', 'tsx', 'watch', '--clear-screen=false', ...(proc.preload ? ['--import', proc.preload] : []), proc.entry], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...proc.env },
  });
  child.on('exit', (code) => {
    console.log(`[dev] ${proc.name} exited (${code ?? 'signal'})`);
    shutdown(code ?? 1);
  });
  children.push(child);
}

let stopping = false;
function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3000).unref();
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
