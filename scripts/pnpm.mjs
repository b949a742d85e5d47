// Runs the pnpm version pinned in package.json's "packageManager", installing nothing globally.
// Lets a fresh machine with only Node and npm use `npm run dev` / `npm test`.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const { packageManager } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const args = process.argv.slice(2);
const installed = spawnSync('pnpm', ['--version'], { encoding: 'utf8', shell: process.platform === 'win32' });
const wanted = packageManager.split('@')[1];
const [command, commandArgs] =
  installed.status === 0 && installed.stdout.trim() === wanted
    ? ['pnpm', args]
    : ['npx', ['--yes', packageManager, ...args]];
const result = spawnSync(command, commandArgs, { stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(result.status ?? 1);
