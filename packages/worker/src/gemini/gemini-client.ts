import { GoogleGenAI, ThinkingLevel, type Content, type File as GeminiFile, type GenerateContentConfig, type GenerateContentResponse, type GroundingMetadata, type Part } from '@google/genai';
import { context } from '@opentelemetry/api';
import type { Config, ReplySettings } from '@gemini-chat/shared';
import { startGeminiSpan } from './gemini-span.js';

export interface GeminiRequest {
  /** The model id the reply was sent with; GEMINI_MODEL for replies stored before replies named their model. */
  model: string;
  /** The reply's resolved settings (already stripped of what the model cannot do). */
  settings: ReplySettings;
  systemInstruction?: string;
  contents: Content[];
  signal: AbortSignal;
}

/** One streamed piece of a reply, reduced to what the worker uses. */
export interface GeminiChunk {
  /** Visible text of this chunk (thought parts excluded). */
  text: string;
  /** Thought summary text of this chunk (only asked for with showThoughts). */
  thought: string;
  finishReason?: string;
  blockReason?: string;
  usage?: { inputTokens: number; outputTokens: number; thinkingTokens: number };
  grounding?: GroundingMetadata;
}

/**
 * A reply's settings as Gemini's request config. `maxOutputTokens` never exceeds the server's cap. Thinking:
 * `off` is budget 0, a level is thinkingLevel, a number thinkingBudget (the API has already left out what the
 * model cannot take); `showThoughts` asks for thought summaries.
 */
export function generationConfigOf(settings: ReplySettings, maxOutputTokens: number): GenerateContentConfig {
  const thinking = settings.thinking;
  const thinkingConfig = {
    ...(thinking === 'off' ? { thinkingBudget: 0 } : {}),
    ...(thinking === 'low' ? { thinkingLevel: ThinkingLevel.LOW } : {}),
    ...(thinking === 'high' ? { thinkingLevel: ThinkingLevel.HIGH } : {}),
    ...(typeof thinking === 'number' ? { thinkingBudget: thinking } : {}),
    ...(settings.showThoughts ? { includeThoughts: true } : {}),
  };
  return {
    maxOutputTokens: Math.min(settings.maxOutputTokens ?? maxOutputTokens, maxOutputTokens),
    ...(settings.temperature !== undefined ? { temperature: settings.temperature } : {}),
    ...(settings.topP !== undefined ? { topP: settings.topP } : {}),
    ...(Object.keys(thinkingConfig).length > 0 ? { thinkingConfig } : {}),
    ...(settings.googleSearch ? { tools: [{ googleSearch: {} }] } : {}),
  };
}

/** One streamed response reduced to what the worker uses. */
function chunkOf(response: GenerateContentResponse): GeminiChunk {
  const candidate = response.candidates?.[0];
  const parts = candidate?.content?.parts ?? [];
  const textOf = (thought: boolean) =>
    parts
      .filter((part) => !!part.thought === thought && typeof part.text === 'string')
      .map((part) => part.text)
      .join('');
  const meta = response.usageMetadata;
  return {
    text: textOf(false),
    thought: textOf(true),
    ...(candidate?.groundingMetadata ? { grounding: candidate.groundingMetadata } : {}),
    ...(candidate?.finishReason ? { finishReason: candidate.finishReason } : {}),
    ...(response.promptFeedback?.blockReason ? { blockReason: response.promptFeedback.blockReason } : {}),
    ...(meta
      ? {
          usage: {
            inputTokens: meta.promptTokenCount ?? 0,
            // Thinking is billed as output, so it counts as output here too.
            outputTokens: (meta.candidatesTokenCount ?? 0) + (meta.thoughtsTokenCount ?? 0),
            thinkingTokens: meta.thoughtsTokenCount ?? 0,
          },
        }
      : {}),
  };
}

/**
 * The real @google/genai SDK. With GEMINI_BASE_URL set it talks to that endpoint (the local fake in dev and tests)
 * through the very same code path it uses against Google. The SDK's own retries stay off (no `retryOptions`):
 * the queue retries, with backoff and across processes.
 */
export function createGeminiClient(config: Config['gemini']) {
  const ai = new GoogleGenAI({
    apiKey: config.apiKey || 'unset',
    ...(config.baseUrl ? { httpOptions: { baseUrl: config.baseUrl } } : {}),
  });

  return {
    model: config.model,

    /** Stores bytes in Gemini's Files API (kept there about 48 hours); the file may still be PROCESSING. */
    uploadFile(request: { bytes: Buffer; mimeType: string; displayName: string; signal: AbortSignal }): Promise<GeminiFile> {
      return ai.files.upload({
        file: new Blob([request.bytes], { type: request.mimeType }),
        config: { mimeType: request.mimeType, displayName: request.displayName, abortSignal: request.signal },
      });
    },

    /** A file of the Files API by name (`files/…`): its state while it is processed. */
    getFile(name: string, signal: AbortSignal): Promise<GeminiFile> {
      return ai.files.get({ name, config: { abortSignal: signal } });
    },

    /** What these parts cost as one user turn of a prompt to `model`, as Gemini counts it. */
    async countTokens(request: { model: string; parts: Part[]; signal: AbortSignal }): Promise<number> {
      const response = await ai.models.countTokens({
        model: request.model,
        contents: [{ role: 'user', parts: request.parts }],
        config: { abortSignal: request.signal },
      });
      return response.totalTokens ?? 0;
    },

    /** One short non-streamed answer (titles). */
    async generate(request: { prompt: string; systemInstruction: string; maxOutputTokens: number; signal: AbortSignal }): Promise<string> {
      const span = startGeminiSpan(config.model, { maxOutputTokens: request.maxOutputTokens }, { stream: false });
      let failure: unknown;
      try {
        const response = await context.with(span.context(), () =>
          ai.models.generateContent({
            model: config.model,
            contents: [{ role: 'user', parts: [{ text: request.prompt }] }],
            config: { systemInstruction: request.systemInstruction, maxOutputTokens: request.maxOutputTokens, abortSignal: request.signal },
          }),
        );
        const { text, ...outcome } = chunkOf(response);
        span.chunk({ ...outcome, responseModel: response.modelVersion, responseId: response.responseId });
        if (response.promptFeedback?.blockReason) throw new Error(`prompt blocked: ${response.promptFeedback.blockReason}`);
        return text;
      } catch (err) {
        failure = err;
        throw err;
      } finally {
        span.end(failure);
      }
    },

    async *stream(request: GeminiRequest): AsyncGenerator<GeminiChunk> {
      const generationConfig = generationConfigOf(request.settings, config.maxOutputTokens);
      const span = startGeminiSpan(request.model, generationConfig);
      let failure: unknown;
      try {
        // In the span's context, so the fetch instrumentation's span for the HTTP call is its child.
        const responses = await context.with(span.context(), () =>
          ai.models.generateContentStream({
            model: request.model,
            contents: request.contents,
            config: {
              ...generationConfig,
              ...(request.systemInstruction ? { systemInstruction: request.systemInstruction } : {}),
              abortSignal: request.signal,
            },
          }),
        );
        for await (const response of responses) {
          const chunk = chunkOf(response);
          span.chunk({ ...chunk, responseModel: response.modelVersion, responseId: response.responseId });
          yield chunk;
        }
      } catch (err) {
        failure = err;
        throw err;
      } finally {
        // Also when the reader stops early (a cancel): the span covers what was streamed.
        span.end(failure);
      }
    },
  };
}
export type GeminiClient = ReturnType<typeof createGeminiClient>;
