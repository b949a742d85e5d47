import { GoogleGenAI, type Content } from '@google/genai';
import type { Config } from '@gemini-chat/shared';

export interface GeminiRequest {
  systemInstruction?: string;
  contents: Content[];
  signal: AbortSignal;
}

/** One streamed piece of a reply, reduced to what the worker uses. */
export interface GeminiChunk {
  /** Visible text of this chunk (thought parts excluded). */
  text: string;
  finishReason?: string;
  blockReason?: string;
  usage?: { inputTokens: number; outputTokens: number };
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

    /** One short non-streamed answer (titles). */
    async generate(request: { prompt: string; systemInstruction: string; maxOutputTokens: number; signal: AbortSignal }): Promise<string> {
      const response = await ai.models.generateContent({
        model: config.model,
        contents: [{ role: 'user', parts: [{ text: request.prompt }] }],
        config: { systemInstruction: request.systemInstruction, maxOutputTokens: request.maxOutputTokens, abortSignal: request.signal },
      });
      if (response.promptFeedback?.blockReason) throw new Error(`prompt blocked: ${response.promptFeedback.blockReason}`);
      return (response.candidates?.[0]?.content?.parts ?? [])
        .filter((part) => !part.thought && typeof part.text === 'string')
        .map((part) => part.text)
        .join('');
    },

    async *stream(request: GeminiRequest): AsyncGenerator<GeminiChunk> {
      const responses = await ai.models.generateContentStream({
        model: config.model,
        contents: request.contents,
        config: {
          ...(request.systemInstruction ? { systemInstruction: request.systemInstruction } : {}),
          maxOutputTokens: config.maxOutputTokens,
          abortSignal: request.signal,
        },
      });
      for await (const response of responses) {
        const candidate = response.candidates?.[0];
        const text = (candidate?.content?.parts ?? [])
          .filter((part) => !part.thought && typeof part.text === 'string')
          .map((part) => part.text)
          .join('');
        const meta = response.usageMetadata;
        yield {
          text,
          ...(candidate?.finishReason ? { finishReason: candidate.finishReason } : {}),
          ...(response.promptFeedback?.blockReason ? { blockReason: response.promptFeedback.blockReason } : {}),
          ...(meta
            ? {
                usage: {
                  inputTokens: meta.promptTokenCount ?? 0,
                  // Thinking is billed as output, so it counts as output here too.
                  outputTokens: (meta.candidatesTokenCount ?? 0) + (meta.thoughtsTokenCount ?? 0),
                },
              }
            : {}),
        };
      }
    },
  };
}
export type GeminiClient = ReturnType<typeof createGeminiClient>;
