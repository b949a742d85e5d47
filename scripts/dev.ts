// `npm run dev`: runs every process of the product on this machine, restarting each on code changes.
// Later processes (worker, local fakes) are added to PROCESSES as they exist.
import { spawn, type ChildProcess } from 'node:child_process';

interface DevProcess {
  name: string;
  entry: string;
  env?: Record<string, string>;
}

const PROCESSES: DevProcess[] = [{ name: 'api', entry: 'packages/api/src/server.ts' }];

const children: ChildProcess[] = [];
for (const proc of PROCESSES) {
  const child = spawn('pnpm', ['exec', 'tsx', 'watch', '--clear-screen=false', proc.entry], {
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
