/* eslint-disable no-restricted-properties -- a bench-only preload, like bench/lib/options.ts: it reads its own knob (BENCH_IO_PROBE_DIR). */
// Preloaded into the bench's API and worker (NODE_OPTIONS=--import) when the send-accept scenario runs: counts the
// process's Postgres transactions and Redis round trips the way packages/testkit's countIo does (pg's
// Client.prototype.query and ioredis's sendCommand wrapped; a pipeline or MULTI is one round trip), and writes
// them to $BENCH_IO_PROBE_DIR/<pid>.json on SIGUSR2. Plain JavaScript: the processes run without a TS loader.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// The drivers are dependencies of the packages, not of the root. pnpm links one copy of each for every package,
// so the instance resolved from packages/api (by real path) is the one the API's and the worker's bundles import.
const require = createRequire(new URL('../../packages/api/package.json', import.meta.url));
const pg = require('pg');
const { Redis } = require('ioredis');

const count = { pgTransactions: 0, pgStatements: 0, redisRoundTrips: 0, redisCommands: 0, byCommand: {} };
const inTransaction = new WeakMap();
const pipelineWrites = new WeakSet();

const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (...args) {
  const first = args[0];
  const text = (typeof first === 'string' ? first : typeof first?.text === 'string' ? first.text : '').trimStart().slice(0, 20).toLowerCase();
  if (text) {
    count.pgStatements++;
    if (text.startsWith('begin') || text.startsWith('start transaction')) {
      inTransaction.set(this, true);
      count.pgTransactions++;
    } else if (text.startsWith('commit') || text.startsWith('rollback')) inTransaction.set(this, false);
    else if (!inTransaction.get(this)) count.pgTransactions++;
  }
  return originalQuery.apply(this, args);
};

const originalSend = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (command, stream) {
  count.redisCommands++;
  count.byCommand[command.name] = (count.byCommand[command.name] ?? 0) + 1;
  if (!stream?.isPipeline) count.redisRoundTrips++;
  else if (!pipelineWrites.has(stream)) {
    pipelineWrites.add(stream);
    count.redisRoundTrips++;
  }
  return originalSend.call(this, command, stream);
};

process.on('SIGUSR2', () => {
  const dir = process.env.BENCH_IO_PROBE_DIR;
  if (dir) writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(count));
});
