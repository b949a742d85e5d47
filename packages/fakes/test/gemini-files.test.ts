// The fake's Files API, driven through the real @google/genai SDK (files.upload / get / list / delete); raw
// fetch only where the SDK never misbehaves on purpose (wrong offsets, raced chunks, replays, bad headers).
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GoogleGenAI } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { describeReceivedFile, samplePdf, samplePng, startFakeGemini } from '../src/gemini/index.js';
import { apiErrorOf, bodyOf, KEY, useFakeGemini, userTurn } from './gemini-sdk-helpers.js';

const MODEL = 'gemini-3.8-flash';
const CHUNK = 8 * 1024 * 1024;

const gemini = useFakeGemini();

const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const idOf = (name: string | undefined) => (name ?? '').replace(/^files\//, '');

async function upload(bytes: Buffer, mimeType: string, displayName?: string) {
  return gemini.ai.files.upload({ file: new Blob([bytes], { type: mimeType }), config: displayName ? { displayName } : {} });
}

// Starts a resumable upload by hand and returns the upload URL as the client would reach it.
async function startRaw(size: number, mimeType = 'application/pdf', headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gemini.fake.url}/upload/v1beta/files`, {
    method: 'POST',
    headers: {
      'x-goog-api-key': KEY,
      'content-type': 'application/json',
      'x-goog-upload-protocol': 'resumable',
      'x-goog-upload-command': 'start',
      'x-goog-upload-header-content-length': String(size),
      'x-goog-upload-header-content-type': mimeType,
      ...headers,
    },
    body: JSON.stringify({ file: { mimeType, displayName: 'raw' } }),
  });
}

async function uploadUrl(size: number, mimeType?: string): Promise<string> {
  const started = await startRaw(size, mimeType);
  expect(started.status).toBe(200);
  const url = new URL(started.headers.get('x-goog-upload-url') ?? '');
  // What the SDK does with it: keep path and query, take the origin of its baseUrl.
  return `${gemini.fake.url}${url.pathname}${url.search}`;
}

const sendChunk = (url: string, bytes: Buffer, offset: number, command = 'upload', key = KEY) =>
  fetch(url, {
    method: 'POST',
    headers: { 'x-goog-api-key': key, 'x-goog-upload-command': command, 'x-goog-upload-offset': String(offset) },
    body: bytes,
  });

describe('upload', () => {
  it('uploads a Blob in one chunk and returns the File resource Google returns', async () => {
    const bytes = samplePdf(2);
    const before = Date.now();
    const file = await upload(bytes, 'application/pdf', 'Report');

    const id = idOf(file.name);
    expect(id).toMatch(/^[a-z0-9]+$/);
    expect(file).toMatchObject({
      displayName: 'Report',
      mimeType: 'application/pdf',
      sizeBytes: String(bytes.length),
      sha256Hash: createHash('sha256').update(bytes).digest('base64'),
      uri: `https://generativelanguage.googleapis.com/v1beta/files/${id}`,
      state: 'ACTIVE',
      source: 'UPLOADED',
    });
    const created = Date.parse(file.createTime ?? '');
    expect(created).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(file.expirationTime ?? '') - created).toBe(48 * 3600 * 1000);

    const [stored] = gemini.fake.files;
    expect(stored?.bytes.equals(bytes)).toBe(true);
    expect(stored).toMatchObject({ name: file.name, sha256: sha256Hex(bytes), state: 'ACTIVE', expired: false });
    const actions = gemini.fake.requests.map((r) => r.action);
    expect(actions).toEqual(['files.upload', 'files.uploadChunk']);
    expect(gemini.fake.requests[1]?.upload).toEqual({ command: 'upload, finalize', offset: 0, bytes: bytes.length });
    expect(gemini.fake.requests[1]?.fileName).toBe(file.name);
  });

  it('reassembles a file over 8 MiB from the SDK chunks, in order', async () => {
    const bytes = randomBytes(CHUNK + 123_457);
    const file = await upload(bytes, 'audio/ogg');

    expect(file.sizeBytes).toBe(String(bytes.length));
    expect(file.sha256Hash).toBe(createHash('sha256').update(bytes).digest('base64'));
    expect(gemini.fake.files[0]?.bytes.equals(bytes)).toBe(true);
    const chunks = gemini.fake.requests.filter((r) => r.action === 'files.uploadChunk').map((r) => r.upload);
    expect(chunks).toEqual([
      { command: 'upload', offset: 0, bytes: CHUNK },
      { command: 'upload, finalize', offset: CHUNK, bytes: 123_457 },
    ]);
  });

  it('refuses a chunk at the wrong offset, keeps nothing of it, and goes on from the right one', async () => {
    const bytes = randomBytes(3000);
    const url = await uploadUrl(bytes.length);

    const skipped = await sendChunk(url, bytes.subarray(1000, 2000), 1000);
    expect(skipped.status).toBe(400);
    expect(((await skipped.json()) as { error: { status: string; message: string } }).error).toMatchObject({
      status: 'INVALID_ARGUMENT',
      message: expect.stringContaining('does not match the 0 bytes received'),
    });

    const first = await sendChunk(url, bytes.subarray(0, 1000), 0);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-goog-upload-status')).toBe('active');
    // A replay of the same chunk is now at the wrong offset.
    expect((await sendChunk(url, bytes.subarray(0, 1000), 0)).status).toBe(400);

    const last = await sendChunk(url, bytes.subarray(1000), 1000, 'upload, finalize');
    expect(last.status).toBe(200);
    expect(last.headers.get('x-goog-upload-status')).toBe('final');
    const { file } = (await last.json()) as { file: { name: string; sizeBytes: string } };
    expect(file.sizeBytes).toBe('3000');
    expect(gemini.fake.files.find((f) => f.name === file.name)?.bytes.equals(bytes)).toBe(true);
  });

  it('lets only one of two chunks raced at the same offset land', async () => {
    const bytes = randomBytes(2000);
    const url = await uploadUrl(bytes.length);
    const answers = await Promise.all([sendChunk(url, bytes.subarray(0, 1000), 0), sendChunk(url, bytes.subarray(0, 1000), 0)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
    expect((await sendChunk(url, bytes.subarray(1000), 1000, 'upload, finalize')).status).toBe(200);
    expect(gemini.fake.files[0]?.bytes.equals(bytes)).toBe(true);
  });

  it('refuses bytes past the declared size, and a finalize short of it stores nothing', async () => {
    const url = await uploadUrl(100);
    expect((await sendChunk(url, randomBytes(101), 0, 'upload, finalize')).status).toBe(400);

    const short = await sendChunk(url, randomBytes(60), 0, 'upload, finalize');
    expect(short.status).toBe(400);
    expect(gemini.fake.files).toEqual([]);
    // The session is over: nothing more can be added to it.
    expect((await sendChunk(url, randomBytes(40), 60, 'upload, finalize')).status).toBe(404);
  });

  it('ends the session at finalize, so a replayed finalize cannot create a second file', async () => {
    const bytes = randomBytes(10);
    const url = await uploadUrl(bytes.length);
    expect((await sendChunk(url, bytes, 0, 'upload, finalize')).status).toBe(200);
    const replay = await sendChunk(url, bytes, 0, 'upload, finalize');
    expect(replay.status).toBe(404);
    expect(gemini.fake.files).toHaveLength(1);
  });

  it('refuses an upload id it never issued', async () => {
    const answer = await sendChunk(`${gemini.fake.url}/upload/v1beta/files?upload_id=nosuchsession&upload_protocol=resumable`, randomBytes(4), 0);
    expect(answer.status).toBe(404);
  });

  it('checks the start request: protocol, size, MIME type and a chosen name', async () => {
    expect((await startRaw(10, 'text/plain', { 'x-goog-upload-protocol': 'multipart' })).status).toBe(400);
    expect((await startRaw(0, 'text/plain')).status).toBe(400);
    const noType = await fetch(`${gemini.fake.url}/upload/v1beta/files`, {
      method: 'POST',
      headers: { 'x-goog-api-key': KEY, 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start', 'x-goog-upload-header-content-length': '4' },
      body: JSON.stringify({ file: {} }),
    });
    expect(noType.status).toBe(400);

    const named = await gemini.ai.files.upload({ file: new Blob(['hello'], { type: 'text/plain' }), config: { name: 'files/greeting' } });
    expect(named.name).toBe('files/greeting');
    const again = await apiErrorOf(gemini.ai.files.upload({ file: new Blob(['hello'], { type: 'text/plain' }), config: { name: 'files/greeting' } }));
    expect(again.status).toBe(409);
    expect(bodyOf(again).error.status).toBe('ALREADY_EXISTS');
  });

  it('wants an API key on the start and on every chunk', async () => {
    const fake = await startFakeGemini({ apiKey: 'the-key' });
    try {
      const wrong = new GoogleGenAI({ apiKey: 'other', httpOptions: { baseUrl: fake.url } });
      const error = await apiErrorOf(wrong.files.upload({ file: new Blob(['x'], { type: 'text/plain' }) }));
      expect(error.status).toBe(400);

      const started = await fetch(`${fake.url}/upload/v1beta/files`, {
        method: 'POST',
        headers: {
          'x-goog-api-key': 'the-key',
          'x-goog-upload-protocol': 'resumable',
          'x-goog-upload-command': 'start',
          'x-goog-upload-header-content-length': '1',
          'x-goog-upload-header-content-type': 'text/plain',
        },
        body: '{}',
      });
      const path = new URL(started.headers.get('x-goog-upload-url') ?? '');
      const url = `${fake.url}${path.pathname}${path.search}`;
      expect((await sendChunk(url, Buffer.from('x'), 0, 'upload, finalize', 'other')).status).toBe(400);
      expect(fake.files).toEqual([]);
      expect((await sendChunk(url, Buffer.from('x'), 0, 'upload, finalize', 'the-key')).status).toBe(200);
    } finally {
      await fake.close();
    }
  });
});

describe('get, list, delete', () => {
  it('gets a file by name, lists every live file across pages, and deletes one', async () => {
    const a = await upload(Buffer.from('alpha'), 'text/plain', 'a');
    const b = await upload(Buffer.from('bravo'), 'text/plain', 'b');
    const c = await upload(Buffer.from('charlie'), 'text/plain', 'c');

    const got = await gemini.ai.files.get({ name: b.name ?? '' });
    expect(got).toEqual(b);

    const names: string[] = [];
    for await (const file of await gemini.ai.files.list({ config: { pageSize: 2 } })) names.push(file.name ?? '');
    expect(names).toEqual([a.name, b.name, c.name]);
    const lists = gemini.fake.requests.filter((r) => r.action === 'files.list');
    expect(lists.map((r) => r.query.pageSize)).toEqual(['2', '2']);
    expect(lists[1]?.query.pageToken).toBeTruthy();

    await gemini.ai.files.delete({ name: b.name ?? '' });
    const gone = await apiErrorOf(gemini.ai.files.get({ name: b.name ?? '' }));
    expect(gone.status).toBe(403);
    expect(bodyOf(gone).error).toMatchObject({
      status: 'PERMISSION_DENIED',
      message: `You do not have permission to access the File ${idOf(b.name)} or it may not exist.`,
    });
    expect((await apiErrorOf(gemini.ai.files.delete({ name: b.name ?? '' }))).status).toBe(403);
    expect(gemini.fake.files.map((f) => f.name)).toEqual([a.name, c.name]);
  });

  it('lists nothing as an empty page', async () => {
    const pager = await gemini.ai.files.list();
    expect(pager.page).toEqual([]);
  });

  it('answers 403 for an id that never existed', async () => {
    const error = await apiErrorOf(gemini.ai.files.get({ name: 'files/neverwas' }));
    expect(error.status).toBe(403);
  });
});

describe('files in prompts', () => {
  it('reads an uploaded file named by fileData: the reply names its bytes and the request log shows it', async () => {
    const bytes = samplePng(64, 48);
    const file = await upload(bytes, 'image/png');
    const contents = [{ role: 'user', parts: [{ text: 'What is this?' }, { fileData: { fileUri: file.uri ?? '', mimeType: 'image/png' } }] }];
    const response = await gemini.ai.models.generateContent({ model: MODEL, contents });

    const described = describeReceivedFile({ mimeType: 'image/png', sizeBytes: bytes.length, sha256: sha256Hex(bytes), image: { width: 64, height: 48 } });
    expect(response.text?.startsWith(`I received 1 file: ${described}. Fake Gemini reply`)).toBe(true);
    expect(response.usageMetadata?.promptTokensDetails).toEqual([
      { modality: 'TEXT', tokenCount: 4 },
      { modality: 'IMAGE', tokenCount: 258 },
    ]);
    const record = gemini.fake.requests.find((r) => r.action === 'generateContent');
    expect(record?.files).toEqual([
      expect.objectContaining({ source: 'fileData', mimeType: 'image/png', sizeBytes: bytes.length, sha256: sha256Hex(bytes), fileName: file.name, fileUri: file.uri, turn: 0, part: 1 }),
    ]);
  });

  it('answers 403 on get and on generation once a file has expired', async () => {
    const file = await upload(samplePdf(1), 'application/pdf');
    expect(gemini.fake.expireFile(file.name ?? '')).toBe(true);

    expect((await apiErrorOf(gemini.ai.files.get({ name: file.name ?? '' }))).status).toBe(403);
    const contents = [{ role: 'user', parts: [{ text: 'Summarise' }, { fileData: { fileUri: file.uri ?? '', mimeType: 'application/pdf' } }] }];
    const error = await apiErrorOf(gemini.ai.models.generateContent({ model: MODEL, contents }));
    expect(error.status).toBe(403);
    expect(bodyOf(error).error.message).toBe(`You do not have permission to access the File ${idOf(file.name)} or it may not exist.`);
    // The streaming call and countTokens refuse it the same way.
    expect((await apiErrorOf(gemini.ai.models.generateContentStream({ model: MODEL, contents }))).status).toBe(403);
    expect((await apiErrorOf(gemini.ai.models.countTokens({ model: MODEL, contents }))).status).toBe(403);
    expect(gemini.fake.files[0]?.expired).toBe(true);
    const listed = await gemini.ai.files.list();
    expect(listed.page).toEqual([]);
  });

  it('lets files expire on their own after fileTtlMs', async () => {
    const ttlMs = 1000;
    const fake = await startFakeGemini({ fileTtlMs: ttlMs });
    try {
      const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: fake.url } });
      const file = await ai.files.upload({ file: new Blob(['short-lived'], { type: 'text/plain' }) });
      const expiresAt = Date.parse(file.expirationTime ?? '');
      expect(expiresAt - Date.parse(file.createTime ?? '')).toBe(ttlMs);
      expect((await ai.files.get({ name: file.name ?? '' })).state).toBe('ACTIVE');
      await sleep(Math.max(0, expiresAt - Date.now()) + 20);
      expect((await apiErrorOf(ai.files.get({ name: file.name ?? '' }))).status).toBe(403);
    } finally {
      await fake.close();
    }
  });

  it('reports PROCESSING after upload when asked, refuses the file in prompts until a get finds it ACTIVE', async () => {
    gemini.fake.processNextUploads(1);
    const file = await upload(Buffer.from('notes'), 'text/plain');
    expect(file.state).toBe('PROCESSING');
    const contents = [{ role: 'user', parts: [{ text: 'Read' }, { fileData: { fileUri: file.uri ?? '', mimeType: 'text/plain' } }] }];
    const early = await apiErrorOf(gemini.ai.models.generateContent({ model: MODEL, contents }));
    expect(early.status).toBe(400);
    expect(bodyOf(early).error).toMatchObject({ status: 'FAILED_PRECONDITION', message: `The File ${idOf(file.name)} is not in an ACTIVE state and usage is not allowed.` });

    expect((await gemini.ai.files.get({ name: file.name ?? '' })).state).toBe('ACTIVE');
    const response = await gemini.ai.models.generateContent({ model: MODEL, contents });
    expect(response.text).toContain('I received 1 file: text/plain 5 characters');
    // Only the next upload was held.
    expect((await upload(Buffer.from('more'), 'text/plain')).state).toBe('ACTIVE');
  });

  it('refuses a fileUri that is not one of its files', async () => {
    const contents = (fileUri: string) => [{ role: 'user', parts: [{ text: 'x' }, { fileData: { fileUri, mimeType: 'application/pdf' } }] }];
    expect((await apiErrorOf(gemini.ai.models.generateContent({ model: MODEL, contents: contents('https://generativelanguage.googleapis.com/v1beta/files/nothere') }))).status).toBe(403);
    expect((await apiErrorOf(gemini.ai.models.generateContent({ model: MODEL, contents: contents('https://example.com/doc.pdf') }))).status).toBe(400);
  });

  it('forgets files on reset', async () => {
    const file = await upload(Buffer.from('x'), 'text/plain');
    gemini.fake.reset();
    expect(gemini.fake.files).toEqual([]);
    expect((await apiErrorOf(gemini.ai.files.get({ name: file.name ?? '' }))).status).toBe(403);
  });

  it('uses the control surface to expire a file and hold uploads in PROCESSING', async () => {
    const file = await upload(Buffer.from('x'), 'text/plain');
    const control = (path: string, body: unknown) =>
      fetch(`${gemini.fake.url}/__fake/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await control('files/expire', { name: file.name })).status).toBe(200);
    expect((await control('files/expire', { name: 'files/nosuch' })).status).toBe(404);
    const listed = (await (await fetch(`${gemini.fake.url}/__fake/files`)).json()) as { files: { name: string; expired: boolean; bytes?: unknown }[] };
    expect(listed.files).toEqual([expect.objectContaining({ name: file.name, expired: true })]);
    expect(listed.files[0]?.bytes).toBeUndefined();
    expect((await control('files/processing', { count: 1 })).status).toBe(200);
    expect((await upload(Buffer.from('y'), 'text/plain')).state).toBe('PROCESSING');
    expect((await control('files/processing', { count: -1 })).status).toBe(400);
  });
});

describe('user turn helper still works with files around', () => {
  it('keeps text-only prompts exactly as before', async () => {
    const contents = [userTurn('plain text')];
    const response = await gemini.ai.models.generateContent({ model: MODEL, contents });
    expect(response.text?.startsWith('Fake Gemini reply to user turn 1.')).toBe(true);
    expect(gemini.fake.requests[0]?.files).toEqual([]);
  });
});
