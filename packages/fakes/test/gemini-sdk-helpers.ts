// What the fake Gemini's test files share: reading streams and errors the way application code reads them
// from the real @google/genai SDK.
import { ApiError, GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { startFakeGemini, type FakeGemini, type FakeGeminiOptions } from '../src/gemini/index.js';

export const KEY = 'fake-key';

export interface FakeGeminiHarness {
  readonly fake: FakeGemini;
  // The real SDK, pointed at the fake.
  readonly ai: GoogleGenAI;
}

// One fake for the whole test file, reset before each test and closed after the last.
export function useFakeGemini(options: FakeGeminiOptions = {}): FakeGeminiHarness {
  let fake: FakeGemini | undefined;
  let ai: GoogleGenAI | undefined;
  beforeAll(async () => {
    fake = await startFakeGemini(options);
    ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: fake.url } });
  });
  afterAll(() => fake?.close());
  beforeEach(() => fake?.reset());
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the fake Gemini starts in beforeAll');
    return value;
  };
  return {
    get fake() {
      return started(fake);
    },
    get ai() {
      return started(ai);
    },
  };
}

export const userTurn = (text: string) => ({ role: 'user', parts: [{ text }] });

export async function collect(stream: AsyncGenerator<GenerateContentResponse>): Promise<GenerateContentResponse[]> {
  const chunks: GenerateContentResponse[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

// Iterates a stream, keeping what arrived before it failed.
export async function collectUntilError(
  stream: AsyncGenerator<GenerateContentResponse>,
): Promise<{ chunks: GenerateContentResponse[]; error: unknown }> {
  const chunks: GenerateContentResponse[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
  } catch (error) {
    return { chunks, error };
  }
  throw new Error(`the stream ended without an error after ${chunks.length} chunks`);
}

export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

export async function apiErrorOf(promise: Promise<unknown>): Promise<ApiError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

// How application code reads Google's error body from an @google/genai ApiError: its message is the JSON body.
export interface GoogleErrorBody {
  error: { code: number; status: string; message: string; details?: { '@type': string; retryDelay?: string; reason?: string }[] };
}
export const bodyOf = (error: ApiError) => JSON.parse(error.message) as GoogleErrorBody;

export const textOf = (chunks: GenerateContentResponse[]) => chunks.map((c) => c.text ?? '').join('');
export const finishReasonsOf = (chunks: GenerateContentResponse[]) => chunks.map((c) => c.candidates?.[0]?.finishReason);
