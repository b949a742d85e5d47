import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import * as source from '../src/index.js';

// The package as published (its `exports` pointing at `dist/`), reached by its own name from fixtures inside it:
// CommonJS programs can require it, and its declarations type-check without the DOM library.

const run = promisify(execFile);
const sdkDir = fileURLToPath(new URL('..', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url));

/** `dist/` is built, never committed: build it when it is missing or older than a source file. */
function distIsStale(): boolean {
  const built = statSync(`${sdkDir}/dist/index.js`, { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return true;
  return readdirSync(`${sdkDir}/src`).some((file) => statSync(`${sdkDir}/src/${file}`).mtimeMs > built);
}

beforeAll(async () => {
  if (distIsStale()) {
    await run('pnpm', ['run', 'build'], { cwd: sdkDir, timeout: 120_000 });
  }
}, 130_000);

describe('the built package', () => {
  it('is required from CommonJS, and a call works', async () => {
    const { stdout, stderr } = await run(process.execPath, [fixture('require.cjs')], { cwd: sdkDir, timeout: 15_000 });
    expect(stdout.trim()).toBe('ok');
    expect(stderr).toBe('');
  });

  it('shares its error brand with another copy (the sources): isGeminiChatError holds where instanceof does not', async () => {
    const built = (await import(`${sdkDir}/dist/index.js`)) as typeof source;
    const problem = { type: 'about:blank', title: 'Conflict', status: 409, code: 'CHATROOM_BUSY', detail: 'Busy.', requestId: 'r' };
    const client = built.createClient({
      baseUrl: 'http://sdk.test',
      fetch: async () => new Response(JSON.stringify(problem), { status: 409, headers: { 'content-type': 'application/problem+json' } }),
    });
    const err = await client.messages.send('room', { content: 'hi' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(built.ConflictError);
    expect(err).not.toBeInstanceOf(source.GeminiChatError);
    expect(source.isGeminiChatError(err)).toBe(true);
    expect(built.isGeminiChatError(new source.NotFoundError(404, { ...problem, status: 404, code: 'CHATROOM_NOT_FOUND' }))).toBe(true);
  });

  it.each(['no-dom', 'no-dom-cjs'])('type-checks in a strict project without the DOM library (%s)', async (project) => {
    const result = await run(process.execPath, [tsc, '-p', fixture(`${project}/tsconfig.json`)], { timeout: 60_000 }).then(
      () => '',
      (err: { stdout?: string; message: string }) => err.stdout || err.message,
    );
    expect(result).toBe('');
  }, 70_000);
});
