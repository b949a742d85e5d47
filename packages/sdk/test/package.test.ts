import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

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

  it.each(['no-dom', 'no-dom-cjs'])('type-checks in a strict project without the DOM library (%s)', async (project) => {
    const result = await run(process.execPath, [tsc, '-p', fixture(`${project}/tsconfig.json`)], { timeout: 60_000 }).then(
      () => '',
      (err: { stdout?: string; message: string }) => err.stdout || err.message,
    );
    expect(result).toBe('');
  }, 70_000);
});
