import { ApiError, type Part } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { classifyError, missingGeminiFileOf } from '../src/gemini/classify-error.js';
import { geminiMimeType, unavailableNote } from '../src/prompt/attachment-parts.js';
import { buildPrompt, estimateTokens, planPrompt, type HistoryMessage, type PromptAttachments } from '../src/prompt/build-prompt.js';

// A branch of three exchanges (u1/a1 oldest … u3/a3 newest) above the prompt p, newest first as pathAbove gives it.
const history: HistoryMessage[] = [
  { id: 'a3', role: 'assistant', status: 'completed', content: 'answer three', reply_to_id: 'u3' },
  { id: 'u3', role: 'user', status: 'completed', content: 'question three', reply_to_id: null },
  { id: 'a2', role: 'assistant', status: 'completed', content: 'answer two', reply_to_id: 'u2' },
  { id: 'u2', role: 'user', status: 'completed', content: 'question two', reply_to_id: null },
  { id: 'a1', role: 'assistant', status: 'completed', content: 'answer one', reply_to_id: 'u1' },
  { id: 'u1', role: 'user', status: 'completed', content: 'question one', reply_to_id: null },
];
const image = (name: string): Part => ({ inlineData: { mimeType: 'image/png', data: Buffer.from(name).toString('base64') } });
const pdf = (id: string): Part => ({ fileData: { fileUri: `https://generativelanguage.googleapis.com/v1beta/files/${id}`, mimeType: 'application/pdf' } });
const base = { systemPrompt: null, prompt: 'the prompt', promptMessageId: 'p', history };
const textCost = (...texts: string[]) => texts.reduce((sum, text) => sum + estimateTokens(text), 0);
const texts = (parts: Part[] | undefined) => (parts ?? []).map((part) => part.text);

describe('buildPrompt with attachments', () => {
  it('puts each user turn\'s attachments before its text, in their order, and leaves model turns alone', () => {
    const attachments = new Map<string, PromptAttachments>([
      ['u2', { parts: [image('first'), pdf('second')], tokens: 10 }],
      ['p', { parts: [pdf('current')], tokens: 5 }],
    ]);
    const built = buildPrompt({ ...base, budgetTokens: 10_000, attachments });
    expect(built.contents.map((c) => c.role)).toEqual(['user', 'model', 'user', 'model', 'user', 'model', 'user']);
    expect(built.contents[0]!.parts).toEqual([{ text: 'question one' }]);
    expect(built.contents[2]!.parts).toEqual([image('first'), pdf('second'), { text: 'question two' }]);
    expect(built.contents[3]!.parts).toEqual([{ text: 'answer two' }]);
    expect(built.contents[6]!.parts).toEqual([pdf('current'), { text: 'the prompt' }]);
    expect(built.estimatedTokens).toBe(textCost('the prompt', 'question one', 'answer one', 'question two', 'answer two', 'question three', 'answer three') + 15);
  });

  it('drops the oldest exchanges whose attachments do not fit, with their text, and keeps the newer ones', () => {
    const prompt = textCost('the prompt');
    const exchange = (n: string) => textCost(`question ${n}`, `answer ${n}`);
    const attachments = new Map<string, PromptAttachments>([
      ['u1', { parts: [image('one')], tokens: 300 }],
      ['u2', { parts: [image('two')], tokens: 300 }],
      ['u3', { parts: [image('three')], tokens: 300 }],
      ['p', { parts: [image('now')], tokens: 100 }],
    ]);
    // Room for the prompt and two exchanges with their images, not three.
    const budget = prompt + 100 + exchange('three') + 300 + exchange('two') + 300 + 299;
    const built = buildPrompt({ ...base, budgetTokens: budget, attachments });
    expect(built.droppedExchanges).toBe(1);
    const userTurns = built.contents.filter((c) => c.role === 'user');
    expect(userTurns.map((c) => c.parts!.at(-1)!.text)).toEqual(['question two', 'question three', 'the prompt']);
    expect(JSON.stringify(built.contents)).not.toContain(Buffer.from('one').toString('base64'));
    expect(JSON.stringify(built.contents)).not.toContain('answer one');
  });

  it('stops at the first exchange that does not fit: an older, smaller one is not slipped in around it', () => {
    const attachments = new Map<string, PromptAttachments>([['u2', { parts: [image('huge')], tokens: 5000 }]]);
    const built = buildPrompt({ ...base, budgetTokens: 200, attachments });
    expect(built.droppedExchanges).toBe(2);
    expect(built.contents.filter((c) => c.role === 'user').map((c) => c.parts!.at(-1)!.text)).toEqual(['question three', 'the prompt']);
  });

  it('always sends the prompt\'s own attachments, even over the budget (then with no history)', () => {
    const attachments = new Map<string, PromptAttachments>([['p', { parts: [image('a'), image('b')], tokens: 50_000 }]]);
    const built = buildPrompt({ ...base, budgetTokens: 1000, attachments });
    expect(built.contents).toEqual([{ role: 'user', parts: [image('a'), image('b'), { text: 'the prompt' }] }]);
    expect(built.droppedExchanges).toBe(3);
  });

  it('plans without parts: only the planned user turns need resolving', () => {
    const plan = planPrompt({ ...base, budgetTokens: textCost('the prompt') + textCost('question three', 'answer three') + 20, attachmentTokens: new Map([['u3', 20]]) });
    expect(plan.exchanges.map((e) => e.userMessageId)).toEqual(['u3']);
  });

  it('shows a file that cannot be sent as a short note', () => {
    expect(unavailableNote({ name: 'report "final".pdf', mime_type: 'application/pdf' })).toBe('[attachment "report \\"final\\".pdf" (application/pdf) was deleted]');
    const built = buildPrompt({ ...base, history: [], budgetTokens: 1000, attachments: new Map([['p', { parts: [{ text: unavailableNote({ name: 'a.png', mime_type: 'image/png' }) }], tokens: 12 }]]) });
    expect(texts(built.contents[0]!.parts)).toEqual(['[attachment "a.png" (image/png) was deleted]', 'the prompt']);
  });
});

describe('attachment types as Gemini takes them', () => {
  it.each([
    ['text/markdown', 'text/plain'],
    ['text/markdown; charset=utf-8', 'text/plain'],
    ['text/plain; charset=utf-8', 'text/plain'],
    ['text/csv', 'text/csv'],
    ['audio/mpeg', 'audio/mp3'],
    ['audio/x-wav', 'audio/wav'],
    ['audio/x-flac', 'audio/flac'],
    ['image/png', 'image/png'],
    ['application/pdf', 'application/pdf'],
  ])('%s → %s', (stored, sent) => expect(geminiMimeType(stored)).toBe(sent));
});

describe('a prompt naming a file Gemini no longer has', () => {
  const apiError = (status: number, message: string, googleStatus: string) =>
    new ApiError({ status, message: JSON.stringify({ error: { code: status, message, status: googleStatus } }) });

  it('is recognised with the file it names, and fails clearly when a fresh upload does not help', () => {
    const err = apiError(403, 'You do not have permission to access the File q1w2e3r4 or it may not exist.', 'PERMISSION_DENIED');
    expect(missingGeminiFileOf(err)).toEqual({ fileId: 'q1w2e3r4' });
    expect(classifyError(err)).toMatchObject({ retryable: false, code: 'ATTACHMENT_UNAVAILABLE' });
  });

  it('is not confused with a key that lacks permission, or with other errors', () => {
    const denied = apiError(403, 'Permission denied: Consumer has been suspended.', 'PERMISSION_DENIED');
    expect(missingGeminiFileOf(denied)).toBeUndefined();
    expect(classifyError(denied).code).toBe('MODEL_AUTH_FAILED');
    expect(missingGeminiFileOf(apiError(400, 'File q1 or it may not exist', 'INVALID_ARGUMENT'))).toBeUndefined();
    expect(missingGeminiFileOf(new Error('You do not have permission to access the File q1 or it may not exist.'))).toBeUndefined();
  });
});
