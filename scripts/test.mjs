// `npm test`: the whole suite on a fresh machine. The web example's test drives a real Chromium; this finds one,
// or installs Debian's package when the machine allows it (root or password-less sudo, apt-get), and hands its
// path to the tests. When neither works, the test itself says exactly what to install (and fails under CI).
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findBrowser() {
  if (process.env.CHROMIUM_PATH && executable(process.env.CHROMIUM_PATH)) return process.env.CHROMIUM_PATH;
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of NAMES) {
    for (const dir of dirs) if (executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function run(command, args) {
  return spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
}

function installChromium() {
  if (process.platform !== 'linux' || !findOnPath('apt-get')) return false;
  const asRoot = process.getuid?.() === 0;
  const sudo = asRoot ? [] : spawnSync('sudo', ['-n', 'true']).status === 0 ? ['sudo', '-n'] : undefined;
  if (!sudo) return false;
  console.log('Installing Chromium for the web example\'s browser test (apt-get install chromium)...');
  const apt = (...args) => (sudo.length ? run(sudo[0], [...sudo.slice(1), 'apt-get', ...args]) : run('apt-get', args));
  return apt('update', '-qq') && apt('install', '-y', '-qq', '--no-install-recommends', 'chromium');
}

function findOnPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && executable(join(dir, name)));
}

const browser = findBrowser() ?? (installChromium() ? findBrowser() : undefined);
const env = { ...process.env, ...(browser ? { CHROMIUM_PATH: browser } : {}) };
const result = spawnSync(process.execPath, ['scripts/pnpm.mjs', 'run', 'test:all', ...process.argv.slice(2)], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
