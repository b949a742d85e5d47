// Runs the fake Gemini as its own process for offline dev and e2e tests:
//   tsx packages/fakes/src/gemini/main.ts
// Listens on 127.0.0.1:$FAKE_GEMINI_PORT (default 8787). Optional FAKE_GEMINI_FIRST_CHUNK_DELAY_MS and
// FAKE_GEMINI_CHUNK_DELAY_MS make the default replies stream at a human-visible pace; FAKE_GEMINI_FILE_TTL_MS
// shortens how long uploaded files live (default 48 h) to try expiry by hand. Script it with prompt
// markers (prompt-markers.ts) or the /__fake/* control routes (control.routes.ts).
import { startFakeGemini } from './fake-gemini.server.js';

// This process shell is a dev tool outside the app, so it reads its knobs directly rather than
// through the app's loadConfig().
const env = process.env;

function readInt(name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    console.error(`${name} must be an integer between 0 and ${max}, got "${raw}"`);
    process.exit(1);
  }
  return value;
}

const fake = await startFakeGemini({
  port: readInt('FAKE_GEMINI_PORT', 8787, 65_535),
  host: env.FAKE_GEMINI_HOST || '127.0.0.1',
  firstChunkDelayMs: readInt('FAKE_GEMINI_FIRST_CHUNK_DELAY_MS', 0, 600_000),
  chunkDelayMs: readInt('FAKE_GEMINI_CHUNK_DELAY_MS', 0, 600_000),
  fileTtlMs: readInt('FAKE_GEMINI_FILE_TTL_MS', 48 * 60 * 60 * 1000, 30 * 24 * 60 * 60 * 1000),
});
console.log(`fake Gemini listening on ${fake.url} (control routes under ${fake.url}/__fake/)`);

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  console.log(`fake Gemini: ${signal}, shutting down`);
  await fake.close(); // ends hung and streaming connections at once, so this is prompt
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
