/* eslint-disable no-restricted-properties -- a bench-only preload, like bench/lib/io-probe.mjs: it reads its own knob (BENCH_HEAP_PROF_DIR). */
// Preloaded into the bench's API and worker (--import) with `pnpm bench --heap-prof`: V8's sampling heap profiler
// from start to exit, counting objects the garbage collector has since freed too, so a profile says which code
// allocates (what drives GC and heap growth), not only which objects are still alive at the end as node's own
// --heap-prof does. Written to $BENCH_HEAP_PROF_DIR/<pid>.heapprofile at exit (Chrome DevTools opens it). Plain
// JavaScript: the processes run without a TS loader.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_HEAP_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  // One sample per 32 KiB allocated on average: cheap enough to leave the scenario's timing alone.
  session.post('HeapProfiler.startSampling', { samplingInterval: 32768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  process.on('exit', () => {
    // An in-process session answers synchronously, so the profile is written before the process ends.
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${process.pid}.heapprofile`), JSON.stringify(result.profile));
    });
  });
}
