import { defaultReplyText } from './default-reply.js';
import type { FakeGeminiSettings } from './fake-gemini.server.js';
import { googleError } from './gemini-errors.js';
import {
  blockedResponse,
  eventCount,
  planReply,
  streamResponses,
  unaryResponse,
  unfinishedStreamResponses,
  unfinishedUnaryResponse,
  type ReplyPlan,
  type ResponseMeta,
} from './gemini-responses.js';
import {
  asObject,
  cutConnection,
  JSON_TYPE,
  pause,
  sendError,
  sendHalfThenCut,
  sendOk,
  untilAborted,
  writeHeadOnce,
  type Exchange,
} from './http-exchange.js';
import { findModel, genericModel, type FakeModel } from './model-catalog.js';
import { stripMarkers } from './prompt-markers.js';
import type { ChosenScript } from './script-book.js';
import { lastUserText, type FakeGeminiScript, type GenerateRequestView, type Pacing } from './scripting.js';
import { searchQueryFor, searchToolError, wantsGoogleSearch } from './search-grounding.js';
import { sseEvent } from './sse-framing.js';
import { totalDelay, writeStream } from './stream-writer.js';
import { decideThinking, thoughtSummaries, type ThinkingPlan } from './thinking.js';
import type { FileStore } from './file-store.js';
import { collectMedia } from './received-files.js';
import { countPromptUsage } from './token-counting.js';
import type { GenerateContentRequestBody, WireContent } from './wire.types.js';

// POST /{version}/models/{model}:generateContent and :streamGenerateContent: the one route the scripts act on.
// The model and the request's thinking and tools are checked first (Google's 404 / 400 bodies); then a request
// picks its script and gets the answer of that script's kind. Thinking and grounding shape every answer that
// produces text, whatever its script.

// What generation needs from the server, read when the request's body has arrived.
export interface GenerationContext {
  settings: FakeGeminiSettings;
  catalog: readonly FakeModel[];
  rejectUnknownModels: boolean;
  // Uploaded files, for fileData parts.
  files: FileStore;
  chooseScript(view: GenerateRequestView): ChosenScript;
  nextResponseId(): string;
}

const SLOW_DEFAULTS = { firstChunkDelayMs: 200, chunkDelayMs: 100 };

type ScriptOf<Kind extends FakeGeminiScript['kind']> = Extract<FakeGeminiScript, { kind: Kind }>;
type ResolvedPacing = Pacing & Required<Pick<Pacing, 'firstChunkDelayMs' | 'chunkDelayMs'>>;

// A generation whose reply text is decided: what each answer kind writes from.
interface PlannedAnswer {
  ex: Exchange;
  stream: boolean;
  plan: ReplyPlan;
  meta: ResponseMeta;
  pacing: ResolvedPacing;
}

export async function generate(ex: Exchange, stream: boolean, context: GenerationContext): Promise<void> {
  const { record } = ex;
  const model = record.model ?? '';
  const body = asObject(record.body) as GenerateContentRequestBody;
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    return sendError(ex, googleError(400, { message: '* GenerateContentRequest.contents: contents is not specified\n' }));
  }
  record.thinkingConfig = body.generationConfig?.thinkingConfig;
  record.tools = Array.isArray(body.tools) ? body.tools : undefined;
  const entry = findModel(context.catalog, model) ?? (context.rejectUnknownModels ? undefined : genericModel(model));
  if (!entry) return sendError(ex, googleError(404, { model, apiVersion: record.apiVersion }));
  const thinking = decideThinking(body.generationConfig?.thinkingConfig, entry);
  if (thinking.error) return sendError(ex, thinking.error);
  const toolError = searchToolError(body.tools);
  if (toolError) return sendError(ex, toolError);
  const media = collectMedia(body.contents as WireContent[], context.files);
  if ('error' in media) return sendError(ex, media.error);
  record.files = media.files;
  record.lastUserText = lastUserText(body.contents as WireContent[]);
  const view: GenerateRequestView = {
    model,
    apiVersion: record.apiVersion ?? 'v1beta',
    stream,
    body,
    lastUserText: record.lastUserText,
    headers: ex.req.headers,
  };
  const { script, source } = context.chooseScript(view);
  record.script = script;
  record.scriptSource = source;
  const pacing = pacingFor(script, context.settings);
  const usage = countPromptUsage(body, media.files);
  const promptTokens = usage.total;
  if (script.kind === 'fail') return answerError(ex, stream, script, pacing);
  if (script.kind === 'block') {
    return answerBlocked(ex, stream, blockedResponse(script.reason ?? 'SAFETY', promptTokens, model), pacing);
  }

  const said = stripMarkers(record.lastUserText);
  const searchQuery = wantsGoogleSearch(body.tools) ? searchQueryFor(said) : undefined;
  const plan = planReply({
    fullText: script.text ?? context.settings.reply?.(view) ?? defaultReplyText(body, media.files),
    promptTokens,
    promptDetails: usage.details,
    thoughtsTokens: thoughtsFor(script, thinking.plan, view, context.settings),
    maxOutputTokens: positiveInt(body.generationConfig?.maxOutputTokens),
    finishReason: script.finishReason,
    chunking: { chunks: pacing.chunks, chunkChars: pacing.chunkChars },
    thoughts: thinking.plan.includeThoughts ? thoughtSummaries(said, searchQuery) : undefined,
    searchQuery,
  });
  const answer: PlannedAnswer = { ex, stream, plan, meta: { model, responseId: context.nextResponseId() }, pacing };
  // The broken-stream scripts always frame as SSE, the only mode the SDKs use.
  switch (script.kind) {
    case 'cut':
      return answerCut(answer, script);
    case 'stop':
      return answerStop(answer, script);
    case 'hang':
      return answerHang(answer, script);
    default:
      return answerReply(answer);
  }
}

async function answerError(ex: Exchange, stream: boolean, script: ScriptOf<'fail'>, pacing: ResolvedPacing): Promise<void> {
  if (!(await pause(pacing.firstChunkDelayMs, ex.signal))) return;
  const error = googleError(script.status, {
    message: script.message,
    retryDelaySeconds: script.retryDelaySeconds,
    model: ex.record.model ?? '',
    apiVersion: ex.record.apiVersion,
  });
  sendError(ex, error, stream && script.contentType === 'event-stream' ? 'text/event-stream' : JSON_TYPE);
}

// The same body answers both endpoints; streamed, it is the single event.
async function answerBlocked(ex: Exchange, stream: boolean, blocked: object, pacing: ResolvedPacing): Promise<void> {
  if (!(await pause(pacing.firstChunkDelayMs, ex.signal))) return;
  if (!stream) return sendOk(ex, blocked);
  await writeStream(ex, [blocked], { ...pacing, firstChunkDelayMs: 0 });
}

async function answerReply({ ex, stream, plan, meta, pacing }: PlannedAnswer): Promise<void> {
  if (stream) {
    await writeStream(ex, streamResponses(plan, meta), pacing);
    return;
  }
  // A unary answer arrives when the whole generation would have finished.
  if (!(await pause(totalDelay(pacing, eventCount(plan)), ex.signal))) return;
  sendOk(ex, unaryResponse(plan, meta));
}

async function answerCut({ ex, stream, plan, meta, pacing }: PlannedAnswer, script: ScriptOf<'cut'>): Promise<void> {
  if (!stream) {
    if (!(await pause(pacing.firstChunkDelayMs, ex.signal))) return;
    return sendHalfThenCut(ex, JSON.stringify(unaryResponse(plan, meta)));
  }
  const sent = eventsBeforeBreak(plan, script.afterChunks, 1);
  const events = streamResponses(plan, meta);
  if (!(await writeStream(ex, events.slice(0, sent), pacing, false))) return;
  if (!(await pause(sent > 0 ? pacing.chunkDelayMs : pacing.firstChunkDelayMs, ex.signal))) return;
  writeHeadOnce(ex, 'text/event-stream');
  const next = events[sent];
  if (script.midJson !== false && next !== undefined) {
    ex.res.write(halfEvent(next));
  } else {
    ex.res.flushHeaders();
  }
  cutConnection(ex);
}

async function answerStop({ ex, stream, plan, meta, pacing }: PlannedAnswer, script: ScriptOf<'stop'>): Promise<void> {
  if (!stream) {
    const sent = Math.min(script.afterChunks ?? 1, plan.chunks.length);
    if (!(await pause(totalDelay(pacing, sent), ex.signal))) return;
    return sendOk(ex, unfinishedUnaryResponse(plan, sent, meta));
  }
  if (!script.midJson) {
    const sent = Math.min(script.afterChunks ?? 1, eventCount(plan));
    await writeStream(ex, unfinishedStreamResponses(plan, sent, meta), pacing);
    return;
  }
  const sent = eventsBeforeBreak(plan, script.afterChunks, 1);
  if (!(await writeStream(ex, unfinishedStreamResponses(plan, sent, meta), pacing, false))) return;
  if (!(await pause(sent > 0 ? pacing.chunkDelayMs : pacing.firstChunkDelayMs, ex.signal))) return;
  const next = halfEvent(streamResponses(plan, meta)[sent]);
  writeHeadOnce(ex, 'text/event-stream');
  ex.res.end(next);
}

async function answerHang({ ex, stream, plan, meta, pacing }: PlannedAnswer, script: ScriptOf<'hang'>): Promise<void> {
  const sent = eventsBeforeBreak(plan, script.afterChunks, 0);
  if (stream && sent > 0) {
    if (!(await writeStream(ex, streamResponses(plan, meta).slice(0, sent), pacing, false))) return;
  }
  // No timer: the wait ends only when the connection closes or close() aborts it.
  return untilAborted(ex.signal);
}

// How many events (thought summaries count) go out before a stream breaks. Never the last one: a cut or hang
// must not deliver the finishReason.
const eventsBeforeBreak = (plan: ReplyPlan, requested: number | undefined, fallback: number): number =>
  Math.min(requested ?? fallback, eventCount(plan) - 1);

// The first half of an SSE event's bytes: JSON that a client cannot parse.
const halfEvent = (event: unknown): Buffer => {
  const bytes = Buffer.from(sseEvent(event));
  return bytes.subarray(0, Math.floor(bytes.length / 2));
};

// The script's pacing over the fake's settings; `slow` brings its own defaults.
function pacingFor(script: FakeGeminiScript, settings: FakeGeminiSettings): ResolvedPacing {
  const base = script.kind === 'slow' ? { ...settings, ...SLOW_DEFAULTS } : settings;
  const pick = <K extends keyof Pacing>(key: K): Pacing[K] => script[key] ?? base[key];
  return {
    firstChunkDelayMs: pick('firstChunkDelayMs') ?? 0,
    chunkDelayMs: pick('chunkDelayMs') ?? 0,
    chunks: pick('chunks'),
    chunkChars: pick('chunkChars'),
  };
}

// Thinking tokens: the script's count, else what the request's thinkingConfig asks of the model (thinkingBudget
// 0 bills none), else the fake's default.
function thoughtsFor(script: FakeGeminiScript, thinking: ThinkingPlan, view: GenerateRequestView, settings: FakeGeminiSettings): number {
  if ('thoughtsTokenCount' in script && script.thoughtsTokenCount !== undefined) return script.thoughtsTokenCount;
  if (thinking.tokens !== undefined) return thinking.tokens;
  const setting = settings.thoughtsTokenCount;
  return Math.max(0, Math.floor((typeof setting === 'function' ? setting(view) : setting) ?? 0));
}

const positiveInt = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
