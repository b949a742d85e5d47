import { JSON_TYPE, pause, writeHeadOnce, type Exchange } from './http-exchange.js';
import type { Pacing } from './scripting.js';
import { jsonArrayStream, sseEvent } from './sse-framing.js';

// Writes stream events with the pacing; headers go out with the first event, as a server that only knows its
// status once the model starts would. `?alt=sse` frames them as Server-Sent Events, anything else as one JSON
// array. Resolves false if the connection went away meanwhile. With `end` false the response stays open, for
// the scripts that break a stream after some events.
export async function writeStream(ex: Exchange, events: unknown[], pacing: Pacing, end = true): Promise<boolean> {
  const sse = ex.url.searchParams.get('alt') === 'sse';
  for (const [i, event] of events.entries()) {
    if (!(await pause(i === 0 ? pacing.firstChunkDelayMs : pacing.chunkDelayMs, ex.signal))) return false;
    if (ex.res.destroyed) return false;
    if (sse) {
      writeHeadOnce(ex, 'text/event-stream');
      ex.res.write(sseEvent(event));
    } else {
      writeHeadOnce(ex, JSON_TYPE);
      ex.res.write((i === 0 ? jsonArrayStream.open : jsonArrayStream.separator) + jsonArrayStream.element(event));
    }
    ex.record.eventsSent += 1;
  }
  if (end) {
    if (events.length === 0 && !(await pause(pacing.firstChunkDelayMs, ex.signal))) return false;
    writeHeadOnce(ex, sse ? 'text/event-stream' : JSON_TYPE);
    ex.res.end(sse ? undefined : (events.length === 0 ? jsonArrayStream.open : '') + jsonArrayStream.close);
  }
  return true;
}

// How long generating `chunks` chunks takes: a unary answer arrives only once it would have finished.
export const totalDelay = (pacing: Pacing, chunks: number): number =>
  (pacing.firstChunkDelayMs ?? 0) + (pacing.chunkDelayMs ?? 0) * Math.max(0, chunks - 1);
