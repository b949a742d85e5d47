import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLiveLogBatcher, type BatchedType } from '../src/handlers/live-log-batcher.js';

function recorder(answer: () => Promise<boolean> | boolean = () => true) {
  const appends: Array<[BatchedType, string]> = [];
  const stops: unknown[] = [];
  return {
    appends,
    stops,
    options: (windowMs: number) => ({
      windowMs,
      append: async (type: BatchedType, text: string) => {
        appends.push([type, text]);
        return answer();
      },
      onStop: (reason: unknown) => stops.push(reason),
    }),
  };
}

describe('live-log batcher', () => {
  it('appends the first chunk at once and the rest of the window as one entry, in order', async () => {
    const r = recorder();
    const live = createLiveLogBatcher(r.options(50));
    live.push('delta', 'a');
    for (const text of ['b', 'c', 'd']) live.push('delta', text);
    await sleep(5);
    expect(r.appends).toEqual([['delta', 'a']]);
    expect(await live.flush()).toBe(true);
    expect(r.appends).toEqual([
      ['delta', 'a'],
      ['delta', 'bcd'],
    ]);
    expect(live.shown.delta).toBe('abcd');
  });

  it('appends at the end of the window without being asked', async () => {
    const r = recorder();
    const live = createLiveLogBatcher(r.options(20));
    live.push('delta', 'a');
    live.push('delta', 'b');
    await sleep(60);
    expect(r.appends).toEqual([
      ['delta', 'a'],
      ['delta', 'b'],
    ]);
    await live.settle();
  });

  it('keeps thoughts and text apart and in order', async () => {
    const r = recorder();
    const live = createLiveLogBatcher(r.options(1000));
    live.push('thought', 't1');
    live.push('thought', 't2');
    live.push('delta', 'x');
    live.push('delta', 'y');
    await live.flush();
    expect(r.appends).toEqual([
      ['thought', 't1'],
      ['thought', 't2'],
      ['delta', 'xy'],
    ]);
    expect(live.shown).toEqual({ thought: 't1t2', delta: 'xy' });
  });

  it('with a window of 0 appends every chunk', async () => {
    const r = recorder();
    const live = createLiveLogBatcher(r.options(0));
    for (const text of ['a', 'b', 'c']) live.push('delta', text);
    await live.flush();
    expect(r.appends.map(([, text]) => text)).toEqual(['a', 'b', 'c']);
  });

  it('stops at a refused append: shown is what was accepted, later text is never appended', async () => {
    let calls = 0;
    const r = recorder(() => ++calls === 1);
    const live = createLiveLogBatcher(r.options(0));
    live.push('delta', 'a');
    live.push('delta', 'b');
    live.push('delta', 'c');
    expect(await live.flush()).toBe(false);
    expect(live.lost).toBe(true);
    expect(r.stops).toEqual(['lost']);
    expect(live.shown.delta).toBe('a');
    expect(r.appends).toHaveLength(2);
  });

  it('reports an append that fails, and flush rethrows it', async () => {
    const failure = new Error('redis down');
    const r = recorder(() => Promise.reject(failure));
    const live = createLiveLogBatcher(r.options(0));
    live.push('delta', 'a');
    await expect(live.flush()).rejects.toBe(failure);
    expect(r.stops).toEqual([failure]);
    expect(live.shown.delta).toBe('');
  });

  it('settle drops pending text and waits for the append in flight', async () => {
    const r = recorder(() => sleep(20).then(() => true));
    const live = createLiveLogBatcher(r.options(1000));
    live.push('delta', 'a');
    await sleep(1); // its append is in flight
    live.push('delta', 'b'); // pending, never shown
    await live.settle();
    expect(live.shown.delta).toBe('a');
    expect(r.appends).toEqual([['delta', 'a']]);
  });
});
