// Attachments end to end, as a client sees them, on both storage drivers: upload a PNG and a PDF over HTTP, ask
// about both in one prompt, and get a reply the (fake) model built from those very files: the small PNG reached
// it inline, the PDF through Gemini's Files API, once, and both stay in the context of the next turn. The s3 run
// talks the S3 protocol to a local S3-compatible server.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receivedFilesSentence, samplePdf, samplePng, type FakeGemini } from '@gemini-chat/fakes';
import { createStorage, fileStorageKey, type Config } from '@gemini-chat/shared';
import { signInOver, startS3Server, startStack, type S3TestServer, type SignedIn, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '@gemini-chat/worker/worker';

const png = samplePng(64, 64);
const pdf = samplePdf(3);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
// The PNG goes inline, the PDF (larger) through the Files API.
const INLINE_MAX = png.length;

const describedPng = { mimeType: 'image/png', sizeBytes: png.length, sha256: sha256(png), image: { width: 64, height: 64 } };
const describedPdf = { mimeType: 'application/pdf', sizeBytes: pdf.length, sha256: sha256(pdf), pages: 3 };

describe.each(['filesystem', 's3'] as const)('attachments on the %s driver', (driver) => {
  let s3: S3TestServer | undefined;
  let stack: Stack;
  let base: string;
  let user: SignedIn;

  beforeAll(async () => {
    expect(pdf.length).toBeGreaterThan(INLINE_MAX);
    s3 = driver === 's3' ? await startS3Server() : undefined;
    stack = await startStack({ GEMINI_INLINE_MAX_BYTES: String(INLINE_MAX), QUOTA_BASIC_DAILY: '0', ...s3?.env }, { startWorker });
    base = await stack.app.listen({ port: 0, host: '127.0.0.1' });
    user = await signInOver(base);
  });
  afterAll(async () => {
    await stack?.close();
    await s3?.close();
  });

  const call = (method: string, path: string, init: { body?: FormData; json?: object; headers?: Record<string, string> } = {}) =>
    fetch(`${base}${path}`, {
      method,
      headers: { ...user.auth, ...(init.json ? { 'content-type': 'application/json' } : {}), ...init.headers },
      body: init.json ? JSON.stringify(init.json) : init.body,
      signal: AbortSignal.timeout(30_000),
    });

  interface Uploaded { id: string; sha256: string; mimeType: string }
  interface Sent { userMessage: { attachments: unknown[] }; reply: { status: string; content: string } }
  const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;
  const newRoom = (title: string) => json<{ id: string }>(call('POST', '/chatroom', { json: { title } }));

  async function upload(bytes: Buffer, name: string, type: string): Promise<Uploaded> {
    const form = new FormData();
    form.append('file', new Blob([bytes], { type }), name);
    const res = await call('POST', '/files', { body: form });
    expect(res.status, await res.clone().text()).toBe(201);
    return json<Uploaded>(res);
  }

  const repliesTo = (gemini: FakeGemini) => gemini.requests.filter((r) => r.action === 'streamGenerateContent' || r.action === 'generateContent');

  it('a PNG and a PDF in one prompt reach the model (inline and by Files API) and the reply is built from them', async () => {
    const image = await upload(png, 'chart.png', 'image/png');
    const doc = await upload(pdf, 'report.pdf', 'application/pdf');
    expect(image).toMatchObject({ mimeType: 'image/png', sha256: sha256(png) });
    expect(doc).toMatchObject({ mimeType: 'application/pdf', sha256: sha256(pdf), pageCount: 3 });

    // The bytes are in the configured store, under a key made of ids only.
    const storage = createStorage((stack.config as Config).files.storage);
    expect(await storage.stat(fileStorageKey(user.userId, doc.id))).toMatchObject({ sizeBytes: pdf.length });
    await storage.close();

    const room = await newRoom('Files');
    const sent = await call('POST', `/chatroom/${room.id}/message`, {
      json: { content: 'What do the chart and the report say?', attachments: [image.id, doc.id] },
      headers: { prefer: 'wait=20' },
    });
    expect(sent.status).toBe(200);
    const { userMessage, reply } = await json<Sent>(sent);
    expect(userMessage.attachments).toEqual([
      { id: image.id, name: 'chart.png', mimeType: 'image/png', sizeBytes: png.length, deleted: false },
      { id: doc.id, name: 'report.pdf', mimeType: 'application/pdf', sizeBytes: pdf.length, deleted: false },
    ]);
    expect(reply.status).toBe('completed');
    expect(reply.content).toContain(receivedFilesSentence([describedPng, describedPdf]));

    const request = repliesTo(stack.gemini).at(-1)!;
    expect(request.files.map((f) => ({ source: f.source, mimeType: f.mimeType, sha256: f.sha256 }))).toEqual([
      { source: 'inline', mimeType: 'image/png', sha256: sha256(png) },
      { source: 'fileData', mimeType: 'application/pdf', sha256: sha256(pdf) },
    ]);
    expect(stack.gemini.requests.filter((r) => r.action === 'files.upload')).toHaveLength(1);

    // The next turn keeps both files in the context and reuses the PDF's Gemini copy.
    const next = await call('POST', `/chatroom/${room.id}/message`, { json: { content: 'And page two?' }, headers: { prefer: 'wait=20' } });
    expect((await json<Sent>(next)).reply.status).toBe('completed');
    expect(repliesTo(stack.gemini).at(-1)!.files.map((f) => f.sha256)).toEqual([sha256(png), sha256(pdf)]);
    expect(stack.gemini.requests.filter((r) => r.action === 'files.upload')).toHaveLength(1);

    // The owner downloads the very bytes; nobody else sees the file.
    const content = await call('GET', `/files/${doc.id}/content`);
    expect(content.headers.get('content-type')).toBe('application/pdf');
    expect(sha256(Buffer.from(await content.arrayBuffer()))).toBe(sha256(pdf));
    const stranger = await signInOver(base);
    const theirs = await fetch(`${base}/files/${doc.id}/content`, { headers: stranger.auth });
    expect(theirs.status).toBe(404);
  });

  it('deleting the chatroom removes the files only it used, bytes included', async () => {
    const doc = await upload(pdf, 'gone.pdf', 'application/pdf');
    const room = await newRoom('Short-lived');
    const sent = await call('POST', `/chatroom/${room.id}/message`, { json: { content: 'Read this', attachments: [doc.id] }, headers: { prefer: 'wait=20' } });
    expect(sent.status).toBe(200);
    expect((await call('DELETE', `/chatroom/${room.id}`)).status).toBe(204);

    expect((await call('GET', `/files/${doc.id}`)).status).toBe(404);
    const storage = createStorage((stack.config as Config).files.storage);
    expect(await storage.stat(fileStorageKey(user.userId, doc.id))).toBeUndefined();
    await storage.close();
  });
});
