// Media parts in prompts (inlineData / fileData), through the real @google/genai SDK: validation as Gemini does
// it, token counts per modality, the reply that names what arrived, and the request log. Raw fetch only for the
// REST spelling (snake_case) that the SDK never sends.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  countTextTokens,
  describeReceivedFile,
  receivedFilesSentence,
  samplePdf,
  samplePng,
  sampleWav,
} from '../src/gemini/index.js';
import { apiErrorOf, bodyOf, collect, KEY, useFakeGemini } from './gemini-sdk-helpers.js';

const MODEL = 'gemini-3.8-flash';
const gemini = useFakeGemini();

const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const inline = (bytes: Buffer, mimeType: string) => ({ inlineData: { mimeType, data: bytes.toString('base64') } });

describe('inline media', () => {
  const png = samplePng(64, 64);
  const pdf = samplePdf(3);
  const wav = sampleWav(2);
  const question = 'What do these show?';
  const contents = [{ role: 'user', parts: [{ text: question }, inline(png, 'image/png'), inline(pdf, 'application/pdf'), inline(wav, 'audio/wav')] }];
  const expectedDetails = [
    { modality: 'TEXT', tokenCount: countTextTokens(question) },
    { modality: 'IMAGE', tokenCount: 258 },
    { modality: 'AUDIO', tokenCount: 2 * 32 },
    { modality: 'DOCUMENT', tokenCount: 3 * 258 },
  ];
  const total = countTextTokens(question) + 258 + 64 + 3 * 258;

  it('counts PNG, PDF and WAV by their modality rules and names each file in the reply', async () => {
    const response = await gemini.ai.models.generateContent({ model: MODEL, contents });

    expect(response.usageMetadata?.promptTokenCount).toBe(total);
    expect(response.usageMetadata?.promptTokensDetails).toEqual(expectedDetails);
    const sentence = receivedFilesSentence([
      { mimeType: 'image/png', sizeBytes: png.length, sha256: sha256Hex(png), image: { width: 64, height: 64 } },
      { mimeType: 'application/pdf', sizeBytes: pdf.length, sha256: sha256Hex(pdf), pages: 3 },
      { mimeType: 'audio/wav', sizeBytes: wav.length, sha256: sha256Hex(wav), seconds: 2 },
    ]);
    expect(sentence).toBe(
      `I received 3 files: image/png 64x64 (${png.length} bytes, sha256 ${sha256Hex(png).slice(0, 12)}), ` +
        `application/pdf 3 pages (${pdf.length} bytes, sha256 ${sha256Hex(pdf).slice(0, 12)}), ` +
        `audio/wav 2 s (${wav.length} bytes, sha256 ${sha256Hex(wav).slice(0, 12)}).`,
    );
    expect(response.text?.startsWith(`${sentence} Fake Gemini reply to user turn 1. You said: "${question}".`)).toBe(true);

    const [record] = gemini.fake.requests;
    expect(record?.files.map(({ source, mimeType, sizeBytes, sha256, turn, part, modality, tokens }) => ({ source, mimeType, sizeBytes, sha256, turn, part, modality, tokens }))).toEqual([
      { source: 'inline', mimeType: 'image/png', sizeBytes: png.length, sha256: sha256Hex(png), turn: 0, part: 1, modality: 'IMAGE', tokens: 258 },
      { source: 'inline', mimeType: 'application/pdf', sizeBytes: pdf.length, sha256: sha256Hex(pdf), turn: 0, part: 2, modality: 'DOCUMENT', tokens: 774 },
      { source: 'inline', mimeType: 'audio/wav', sizeBytes: wav.length, sha256: sha256Hex(wav), turn: 0, part: 3, modality: 'AUDIO', tokens: 64 },
    ]);
  });

  it('gives countTokens the same total and details', async () => {
    const counted = await gemini.ai.models.countTokens({ model: MODEL, contents });
    expect(counted.totalTokens).toBe(total);
    const raw = await fetch(`${gemini.fake.url}/v1beta/models/${MODEL}:countTokens`, {
      method: 'POST',
      headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ contents }),
    });
    expect(((await raw.json()) as { promptTokensDetails: unknown }).promptTokensDetails).toEqual(expectedDetails);
  });

  it('streams the same usage, details on the first and the last event', async () => {
    const chunks = await collect(await gemini.ai.models.generateContentStream({ model: MODEL, contents }));
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks[0]?.usageMetadata?.promptTokensDetails).toEqual(expectedDetails);
    expect(chunks.at(-1)?.usageMetadata?.promptTokensDetails).toEqual(expectedDetails);
    expect(chunks.map((c) => c.text ?? '').join('')).toContain('I received 3 files: image/png 64x64');
  });
});

describe('token rules', () => {
  const imageTokensOf = async (width: number, height: number) =>
    (await gemini.ai.models.countTokens({ model: MODEL, contents: [{ role: 'user', parts: [inline(samplePng(width, height), 'image/png')] }] })).totalTokens;

  it('counts 258 for an image up to 384 px a side and 258 per tile beyond', async () => {
    expect(await imageTokensOf(384, 384)).toBe(258);
    expect(await imageTokensOf(385, 100)).toBe(258 * 2 * 1); // tile side 256: 2 x 1
    expect(await imageTokensOf(960, 540)).toBe(258 * 6); // tile side 360: 3 x 2
    expect(await imageTokensOf(1536, 1536)).toBe(258 * 4); // tile side capped at 768: 2 x 2
  });

  it('counts a text file as its text', async () => {
    const text = 'name,age\nAda,36\n';
    const counted = await gemini.ai.models.countTokens({
      model: MODEL,
      contents: [{ role: 'user', parts: [{ text: 'Read:' }, inline(Buffer.from(text), 'text/csv')] }],
    });
    expect(counted.totalTokens).toBe(countTextTokens('Read:') + countTextTokens(text));
  });

  it('counts and names media in every turn, history included', async () => {
    const older = samplePng(10, 10, 1);
    const newer = samplePng(10, 10, 2);
    expect(sha256Hex(older)).not.toBe(sha256Hex(newer));
    const contents = [
      { role: 'user', parts: [{ text: 'First' }, inline(older, 'image/png')] },
      { role: 'model', parts: [{ text: 'A grey square.' }] },
      { role: 'user', parts: [{ text: 'And this?' }, inline(newer, 'image/png')] },
    ];
    const response = await gemini.ai.models.generateContent({ model: MODEL, contents });
    expect(response.usageMetadata?.promptTokensDetails).toContainEqual({ modality: 'IMAGE', tokenCount: 516 });
    expect(response.text).toContain(`I received 2 files: ${describeReceivedFile({ mimeType: 'image/png', sizeBytes: older.length, sha256: sha256Hex(older), image: { width: 10, height: 10 } })}`);
    expect(gemini.fake.requests[0]?.files.map((f) => [f.turn, f.part])).toEqual([
      [0, 1],
      [2, 1],
    ]);
  });

  it('accepts the REST spelling: inline_data / mime_type and file_data / file_uri', async () => {
    const file = await gemini.ai.files.upload({ file: new Blob([samplePdf(2)], { type: 'application/pdf' }) });
    const wav = sampleWav(0.5);
    const answer = await fetch(`${gemini.fake.url}/v1beta/models/${MODEL}:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({
        contents: [
          {
            role: 'user',
            parts: [
              { text: 'Hi' },
              { inline_data: { mime_type: 'audio/wav', data: wav.toString('base64') } },
              { file_data: { file_uri: file.uri, mime_type: 'application/pdf' } },
            ],
          },
        ],
      }),
    });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { usageMetadata: { promptTokensDetails: unknown[] } };
    expect(body.usageMetadata.promptTokensDetails).toEqual([
      { modality: 'TEXT', tokenCount: 1 },
      { modality: 'AUDIO', tokenCount: 16 },
      { modality: 'DOCUMENT', tokenCount: 516 },
    ]);
    const record = gemini.fake.requests.find((r) => r.action === 'generateContent');
    expect(record?.files.map((f) => f.source)).toEqual(['inline', 'fileData']);
  });
});

describe('bad media', () => {
  const generate = (part: Record<string, unknown>) =>
    apiErrorOf(gemini.ai.models.generateContent({ model: MODEL, contents: [{ role: 'user', parts: [{ text: 'x' }, part] }] }));

  it('refuses data that is not base64', async () => {
    const error = await generate({ inlineData: { mimeType: 'image/png', data: 'not base64 at all!' } });
    expect(error.status).toBe(400);
    expect(bodyOf(error).error).toMatchObject({ status: 'INVALID_ARGUMENT', message: expect.stringContaining('Base64 decoding failed') });
    expect((await generate({ inlineData: { mimeType: 'image/png', data: 'abcde' } })).status).toBe(400);
  });

  it('accepts URL-safe and unpadded base64, as proto JSON does', async () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xfe, 0x41]);
    const data = bytes.toString('base64url');
    expect(data).toMatch(/[-_]/);
    const response = await gemini.ai.models.generateContent({
      model: MODEL,
      contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'audio/ogg', data } }] }],
    });
    expect(gemini.fake.requests[0]?.files[0]?.sha256).toBe(sha256Hex(bytes));
    expect(response.text).toContain('audio/ogg');
  });

  it('refuses a MIME type Gemini does not take, and a missing one', async () => {
    const zip = await generate(inline(Buffer.from('PK\x03\x04'), 'application/zip'));
    expect(zip.status).toBe(400);
    expect(bodyOf(zip).error.message).toBe('Unsupported MIME type: application/zip');
    expect((await generate({ inlineData: { data: 'aGk=' } })).status).toBe(400);
    expect((await generate(inline(Buffer.from('x'), 'video/mp4'))).status).toBe(400);
  });

  it('refuses a "PDF" with no pages', async () => {
    const error = await generate(inline(Buffer.from('hello, not a pdf'), 'application/pdf'));
    expect(error.status).toBe(400);
    expect(bodyOf(error).error.message).toBe('The document has no pages.');
  });

  it('refuses the same in countTokens', async () => {
    const error = await apiErrorOf(
      gemini.ai.models.countTokens({ model: MODEL, contents: [{ role: 'user', parts: [inline(Buffer.from('x'), 'application/zip')] }] }),
    );
    expect(error.status).toBe(400);
  });

  it('tolerates MIME parameters and case', async () => {
    const response = await gemini.ai.models.generateContent({
      model: MODEL,
      contents: [{ role: 'user', parts: [inline(Buffer.from('hello'), 'Text/Plain; charset=utf-8')] }],
    });
    expect(response.text).toContain('I received 1 file: text/plain 5 characters');
  });
});
