import type { FakeGeminiScript, Pacing, ReplyShape } from './scripting.js';

// Prompt markers: scripting for when the fake runs as a separate process (dev, e2e) and the test can only
// choose what the user types. The fake reads them from the LAST USER MESSAGE of a generation request.
//
// Syntax: [[name]]  [[name:arg]]  [[name:arg opt=value flag]]   (names and options are case-insensitive)
//
// Behaviour markers (the first one in the message wins):
//   [[fail:503]]                 answer HTTP 503 UNAVAILABLE (any 400-599 status works)
//   [[fail:429 retry=7]]         429 RESOURCE_EXHAUSTED whose RetryInfo says retryDelay "7s" (default 1s)
//   [[fail:503 type=event-stream]]  send the error body as text/event-stream (seen from the real stream endpoint)
//   [[block]] [[block:PROHIBITED_CONTENT]]   prompt blocked (promptFeedback.blockReason, default SAFETY)
//   [[cut:2]]                    stream 2 events, half of the 3rd, then destroy the socket ([[cut:2 boundary]]
//                                destroys it right after the 2nd event); default 1
//   [[stop:2]]                   stream 2 events and end cleanly without a finishReason; default 1
//                                ([[stop:2 midjson]] sends half of the 3rd event before ending)
//   [[hang]] [[hang:2]]          stream 0 (default) or 2 events, then never answer until the client goes away
// Modifier markers (combine with the above or alone):
//   [[slow]] [[slow:150]] [[slow:150 first=800]]   chunk delay 150 ms (default 100), first chunk after 800 ms
//                                                  (default 200)
//   [[chunks:5]]   exactly 5 chunks       [[thoughts:40]]   report thoughtsTokenCount 40
//   [[finish:SAFETY]]   override the finishReason (SAFETY also adds HIGH safetyRatings)
// Option on any behaviour marker: times=N. The marker then applies to the first N requests whose last user
// message is this exact text, and later ones get the default reply: "fail twice, then succeed" for a job that
// a worker retries with the same prompt. Without times= it applies to every such request.
//
// Markers with a known name are removed from the text the default reply echoes; a known marker with a bad
// argument (e.g. [[fail:abc]]) is removed too but has no effect. Unknown names are left alone.

const MARKER = /\[\[([a-z]+)(?::([^\s\]]+))?((?:[ \t]+[a-z]+(?:=[^\s\]]+)?)*)[ \t]*\]\]/gi;
const BEHAVIOURS = new Set(['fail', 'block', 'cut', 'stop', 'hang']);
const MODIFIERS = new Set(['slow', 'chunks', 'thoughts', 'finish']);

interface Marker {
  name: string;
  arg: string | undefined;
  options: Map<string, string>;
}

function* markersIn(text: string): Generator<Marker> {
  for (const match of text.matchAll(MARKER)) {
    const name = (match[1] ?? '').toLowerCase();
    if (!BEHAVIOURS.has(name) && !MODIFIERS.has(name)) continue;
    const options = new Map<string, string>();
    for (const option of (match[3] ?? '').trim().split(/[ \t]+/).filter(Boolean)) {
      const [key = '', value = ''] = option.split('=', 2);
      options.set(key.toLowerCase(), value);
    }
    yield { name, arg: match[2], options };
  }
}

const count = (value: string | undefined): number | undefined => {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value)) return undefined;
  return Number(value);
};

function behaviourScript(marker: Marker): FakeGeminiScript | undefined {
  const { name, arg, options } = marker;
  const afterChunks = arg === undefined ? undefined : count(arg);
  if (arg !== undefined && afterChunks === undefined && name !== 'block') return undefined;
  switch (name) {
    case 'fail': {
      const status = count(arg);
      if (status === undefined || !Number.isInteger(status) || status < 400 || status > 599) return undefined;
      const retry = count(options.get('retry'));
      const type = options.get('type');
      return {
        kind: 'fail',
        status,
        ...(retry !== undefined ? { retryDelaySeconds: retry } : {}),
        ...(type === 'event-stream' ? { contentType: 'event-stream' as const } : {}),
      };
    }
    case 'block':
      return { kind: 'block', ...(arg ? { reason: arg.toUpperCase() } : {}) };
    case 'cut':
      return { kind: 'cut', ...(afterChunks !== undefined ? { afterChunks } : {}), ...(options.has('boundary') ? { midJson: false } : {}) };
    case 'stop':
      return { kind: 'stop', ...(afterChunks !== undefined ? { afterChunks } : {}), ...(options.has('midjson') ? { midJson: true } : {}) };
    case 'hang':
      return { kind: 'hang', ...(afterChunks !== undefined ? { afterChunks } : {}) };
    default:
      return undefined;
  }
}

export interface MarkerScript {
  script: FakeGeminiScript;
  // Undefined: applies to every request carrying the marker.
  times: number | undefined;
}

export function scriptFromMarkers(text: string): MarkerScript | undefined {
  let behaviour: FakeGeminiScript | undefined;
  let times: number | undefined;
  let slow = false;
  const pacing: Pacing = {};
  const shape: ReplyShape = {};
  for (const marker of markersIn(text)) {
    if (BEHAVIOURS.has(marker.name)) {
      if (behaviour) continue;
      behaviour = behaviourScript(marker);
      if (behaviour) times = count(marker.options.get('times'));
      continue;
    }
    const value = count(marker.arg);
    switch (marker.name) {
      case 'slow': {
        slow = true;
        pacing.chunkDelayMs = value ?? 100;
        pacing.firstChunkDelayMs = count(marker.options.get('first')) ?? 200;
        break;
      }
      case 'chunks':
        if (value !== undefined && value > 0) pacing.chunks = value;
        break;
      case 'thoughts':
        if (value !== undefined) shape.thoughtsTokenCount = value;
        break;
      case 'finish':
        if (marker.arg) shape.finishReason = marker.arg.toUpperCase();
        break;
    }
  }
  if (!behaviour && !slow && Object.keys(pacing).length === 0 && Object.keys(shape).length === 0) return undefined;
  const base: FakeGeminiScript = behaviour ?? { kind: slow ? 'slow' : 'reply' };
  const producesText = base.kind !== 'fail' && base.kind !== 'block';
  return { script: { ...base, ...pacing, ...(producesText ? shape : {}) } as FakeGeminiScript, times };
}

export function stripMarkers(text: string): string {
  return text
    .replace(MARKER, (whole, name: string) => (BEHAVIOURS.has(name.toLowerCase()) || MODIFIERS.has(name.toLowerCase()) ? '' : whole))
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}
