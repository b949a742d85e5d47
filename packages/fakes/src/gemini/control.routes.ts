import type { ServerResponse } from 'node:http';
import type { FakeGemini, FakeGeminiSettings } from './fake-gemini.server.js';
import { parseScript, ScriptError, type FakeGeminiScript } from './scripting.js';

// The HTTP control surface, for when the fake runs as its own process (src/gemini/main.ts) and a dev or e2e
// test cannot call the scripting API. Unauthenticated: the fake listens on loopback only. Errors use Google's
// error envelope with status 400.
//
//   GET  /__fake/health     -> { ok: true, queued: <scripts waiting> }
//   GET  /__fake/requests   -> { requests: RecordedRequest[] }   every Gemini request so far, oldest first
//   POST /__fake/script     body: a script, an array of scripts, or { scripts: [...] }; queued for the next
//                           generation requests, in order. e.g. {"kind":"fail","status":503,"times":2}
//                           -> { queued: <total waiting> }
//   POST /__fake/rules      body: { match: "text" | { regex: "…", flags?: "i" }, script: {…}, times?: n };
//                           a standing script for generation requests whose last user message matches
//   POST /__fake/config     body: { firstChunkDelayMs?, chunkDelayMs?, chunks?, chunkChars?, thoughtsTokenCount? }
//                           changes the default pacing / thinking for later requests
//   POST /__fake/reset      forgets requests, queued scripts, rules, marker counters, files and config changes
//   GET  /__fake/files      -> { files: [...] }   uploaded files (without their bytes), expired ones included
//   POST /__fake/files/expire      body: { name: "files/<id>" }; the file expires now (404 when there is none)
//   POST /__fake/files/processing  body: { count: n }; the next n uploads finish PROCESSING, ACTIVE at next get
//
// Script fields are those of FakeGeminiScript (scripting.ts); unknown fields are refused.

export const CONTROL_PREFIX = '/__fake/';

interface Controllable extends FakeGemini {
  readonly queuedScripts: number;
}

const CONFIG_FIELDS = ['firstChunkDelayMs', 'chunkDelayMs', 'chunks', 'chunkChars', 'thoughtsTokenCount'] as const;

export async function handleControlRequest(
  fake: Controllable,
  method: string,
  url: URL,
  body: unknown,
  res: ServerResponse,
): Promise<void> {
  const route = `${method} ${url.pathname.replace(/\/+$/, '')}`;
  try {
    switch (route) {
      case 'GET /__fake/health':
        return send(res, 200, { ok: true, queued: fake.queuedScripts });
      case 'GET /__fake/requests':
        return send(res, 200, { requests: fake.requests });
      case 'POST /__fake/script': {
        fake.enqueue(...scriptsFrom(body));
        return send(res, 200, { queued: fake.queuedScripts });
      }
      case 'POST /__fake/rules': {
        const { match, script, times } = (body ?? {}) as { match?: unknown; script?: unknown; times?: unknown };
        if (times !== undefined && !(typeof times === 'number' && times > 0)) throw new ScriptError('times must be a positive number');
        fake.addRule({ match: matcherFrom(match), script: parseScript(script), ...(typeof times === 'number' ? { times } : {}) });
        return send(res, 200, { ok: true });
      }
      case 'POST /__fake/config': {
        fake.configure(settingsFrom(body));
        return send(res, 200, { ok: true });
      }
      case 'GET /__fake/files':
        return send(res, 200, { files: fake.files.map(({ bytes: _bytes, ...file }) => file) });
      case 'POST /__fake/files/expire': {
        const name = (body as { name?: unknown } | undefined)?.name;
        if (typeof name !== 'string' || name === '') throw new ScriptError('name must be a file name such as files/abc123');
        if (!fake.expireFile(name)) return send(res, 404, { error: { code: 404, message: `No file ${name}.`, status: 'NOT_FOUND' } });
        return send(res, 200, { ok: true });
      }
      case 'POST /__fake/files/processing': {
        const count = (body as { count?: unknown } | undefined)?.count;
        if (!(typeof count === 'number' && Number.isInteger(count) && count >= 0)) throw new ScriptError('count must be a non-negative integer');
        fake.processNextUploads(count);
        return send(res, 200, { ok: true });
      }
      case 'POST /__fake/reset': {
        fake.reset();
        return send(res, 200, { ok: true });
      }
      default:
        return send(res, 404, { error: { code: 404, message: `No control route ${route}.`, status: 'NOT_FOUND' } });
    }
  } catch (err) {
    if (!(err instanceof ScriptError)) throw err;
    return send(res, 400, { error: { code: 400, message: err.message, status: 'INVALID_ARGUMENT' } });
  }
}

function scriptsFrom(body: unknown): FakeGeminiScript[] {
  const list = Array.isArray(body) ? body : (body as { scripts?: unknown } | undefined)?.scripts ?? body;
  return (Array.isArray(list) ? list : [list]).map(parseScript);
}

function matcherFrom(match: unknown): string | RegExp {
  if (typeof match === 'string' && match !== '') return match;
  const { regex, flags } = (match ?? {}) as { regex?: unknown; flags?: unknown };
  if (typeof regex === 'string') {
    try {
      return new RegExp(regex, typeof flags === 'string' ? flags : '');
    } catch (err) {
      throw new ScriptError(`match.regex is not a valid regular expression: ${String(err)}`);
    }
  }
  throw new ScriptError('match must be a non-empty string or { regex, flags? }');
}

function settingsFrom(body: unknown): FakeGeminiSettings {
  const settings: Record<string, number> = {};
  for (const [key, value] of Object.entries((body ?? {}) as Record<string, unknown>)) {
    if (!(CONFIG_FIELDS as readonly string[]).includes(key)) throw new ScriptError(`config.${key} is not a setting`);
    if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) throw new ScriptError(`config.${key} must be a non-negative number`);
    settings[key] = value;
  }
  return settings as FakeGeminiSettings;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
