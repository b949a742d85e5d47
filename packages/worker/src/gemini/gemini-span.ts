import { SpanKind, SpanStatusCode, context, trace, type Context } from '@opentelemetry/api';
import type { GenerateContentConfig } from '@google/genai';

// A no-op until a preload registers the SDK.
const tracer = trace.getTracer('gemini-chat-worker');

export interface GeminiSpanChunk {
  finishReason?: string;
  blockReason?: string;
  usage?: { inputTokens: number; outputTokens: number; thinkingTokens: number };
  responseModel?: string;
  responseId?: string;
}

/**
 * One streamed Gemini call as a span, named and attributed after OpenTelemetry's GenAI conventions
 * (`chat {model}`, gen_ai.*): the request's model and limits, then the time to the first chunk (an attribute and
 * an event), the finish reason and the token counts (thinking as gen_ai.usage.reasoning.output_tokens, and inside
 * the output count, as Gemini bills it). No prompt or reply text is recorded.
 */
export function startGeminiSpan(model: string, config: GenerateContentConfig, options: { stream: boolean } = { stream: true }) {
  const started = performance.now();
  const span = tracer.startSpan(`chat ${model}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.request.model': model,
      'gen_ai.request.stream': options.stream,
      ...(config.maxOutputTokens !== undefined ? { 'gen_ai.request.max_tokens': config.maxOutputTokens } : {}),
      ...(config.temperature !== undefined ? { 'gen_ai.request.temperature': config.temperature } : {}),
      ...(config.topP !== undefined ? { 'gen_ai.request.top_p': config.topP } : {}),
    },
  });
  let chunks = 0;
  let finishReason: string | undefined;
  let usage: GeminiSpanChunk['usage'];
  return {
    /** The context the HTTP call runs in, so its fetch span is this span's child. */
    context: (): Context => trace.setSpan(context.active(), span),
    /** A streamed chunk, or the whole answer of a call that is not streamed. */
    chunk(chunk: GeminiSpanChunk): void {
      if (chunks++ === 0) {
        const seconds = (performance.now() - started) / 1000;
        span.setAttribute('gen_ai.response.time_to_first_chunk', seconds);
        span.addEvent('gen_ai.first_chunk');
      }
      finishReason = chunk.finishReason ?? (chunk.blockReason ? `blocked:${chunk.blockReason}` : finishReason);
      usage = chunk.usage ?? usage;
      if (chunk.responseModel) span.setAttribute('gen_ai.response.model', chunk.responseModel);
      if (chunk.responseId) span.setAttribute('gen_ai.response.id', chunk.responseId);
    },
    end(err?: unknown): void {
      span.setAttribute('gemini.chunks', chunks);
      if (finishReason) span.setAttribute('gen_ai.response.finish_reasons', [finishReason]);
      if (usage) {
        span.setAttribute('gen_ai.usage.input_tokens', usage.inputTokens);
        span.setAttribute('gen_ai.usage.output_tokens', usage.outputTokens);
        span.setAttribute('gen_ai.usage.reasoning.output_tokens', usage.thinkingTokens);
      }
      if (err !== undefined) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        span.setAttribute('error.type', (err as Error).name || 'Error');
      }
      span.end();
    },
  };
}
