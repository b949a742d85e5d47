import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTestApp,
  elfFixture,
  expectProblem,
  filesUnder,
  fileUpload,
  multipart,
  pdfFixture,
  pngFixture,
  signIn,
  waitFor,
  wavFixture,
  type SignedIn,
  type TestApp,
} from '@gemini-chat/testkit';

const MAX_BYTES = 200_000;
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ FILE_MAX_BYTES: String(MAX_BYTES), FILE_PDF_MAX_PAGES: '3' });
});
afterAll(() => t.close());

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const upload = (user: SignedIn, body: { payload: Buffer; headers: Record<string, string> }) =>
  t.app.inject({ method: 'POST', url: '/files', payload: body.payload, headers: { ...user.auth, ...body.headers } });
const rowsOf = (userId: string) => t.db.selectFrom('file').selectAll().where('user_id', '=', userId).execute();
const storageUsed = async (userId: string) =>
  Number((await t.db.selectFrom('users').select('storage_used_bytes').where('id', '=', userId).executeTakeFirstOrThrow()).storage_used_bytes);
const objectsOf = (userId: string) => filesUnder(t.filesDir).filter((path) => path.startsWith(`files/${userId}/`));

/** What a refused upload must leave: nothing at all. */
async function expectNothingStored(user: SignedIn) {
  expect(await rowsOf(user.userId)).toEqual([]);
  expect(await storageUsed(user.userId)).toBe(0);
  expect(objectsOf(user.userId)).toEqual([]);
}

describe('POST /files: what is accepted', () => {
  it('stores a PNG: 201 with its detected type, size and sha256; the bytes come back exactly', async () => {
    const user = await signIn(t.app);
    const png = pngFixture();
    const res = await upload(user, fileUpload(png, 'photo.png', 'image/png'));
    expect(res.statusCode).toBe(201);
    const file = res.json();
    expect(file).toMatchObject({ name: 'photo.png', mimeType: 'image/png', sizeBytes: png.length, sha256: sha256(png) });
    expect(file.pageCount).toBeUndefined();
    expect(res.headers.location).toBe(`/files/${file.id}`);
    expect(await storageUsed(user.userId)).toBe(png.length);
    expect(objectsOf(user.userId)).toEqual([`files/${user.userId}/${file.id}`]);

    const content = await t.app.inject({ url: `/files/${file.id}/content`, headers: user.auth });
    expect(content.statusCode).toBe(200);
    expect(content.rawPayload.equals(png)).toBe(true);
    expect(content.headers).toMatchObject({
      'content-type': 'image/png',
      'content-length': String(png.length),
      'x-content-type-options': 'nosniff',
      'accept-ranges': 'bytes',
      etag: `"${sha256(png)}"`,
    });
    expect(String(content.headers['content-security-policy'])).toContain('sandbox');
    expect(content.headers['content-disposition']).toBe('attachment; filename="photo.png"');

    const meta = await t.app.inject({ url: `/files/${file.id}`, headers: user.auth });
    expect(meta.json()).toEqual(file);
    const notModified = await t.app.inject({ url: `/files/${file.id}/content`, headers: { ...user.auth, 'if-none-match': `"${sha256(png)}"` } });
    expect(notModified.statusCode).toBe(304);
  });

  it('detects the type from the bytes whatever the client declares as octet-stream or leaves out', async () => {
    const user = await signIn(t.app);
    const wav = await upload(user, fileUpload(wavFixture(), 'noise', 'application/octet-stream'));
    expect(wav.json()).toMatchObject({ mimeType: 'audio/wav', name: 'noise' });
    const md = await upload(user, fileUpload('# Title\n\nSome *text*, ünïcödé.\n', 'notes.md'));
    expect(md.json()).toMatchObject({ mimeType: 'text/markdown' });
    const csv = await upload(user, fileUpload('a,b\n1,2\n', 'table.csv', 'text/csv'));
    expect(csv.json()).toMatchObject({ mimeType: 'text/csv' });
    const txt = await upload(user, fileUpload('plain words', 'words.txt', 'text/plain'));
    expect(txt.json()).toMatchObject({ mimeType: 'text/plain' });
  });

  it('counts a PDF\'s pages', async () => {
    const user = await signIn(t.app);
    const res = await upload(user, fileUpload(pdfFixture(3), 'doc.pdf', 'application/pdf'));
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ mimeType: 'application/pdf', pageCount: 3 });
  });

  it('sanitises names: last path segment, no NUL or control characters, at most 255 bytes, never empty', async () => {
    const user = await signIn(t.app);
    const name = async (disposition: string) =>
      (await upload(user, multipart([{ name: 'file', disposition, data: 'x' }]))).json().name as string;
    expect(await name(`form-data; name="file"; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd.txt`)).toBe('passwd.txt');
    expect(await name(`form-data; name="file"; filename*=UTF-8''a%5Cb%5Cc.txt`)).toBe('c.txt');
    expect(await name(`form-data; name="file"; filename*=UTF-8''evil%00na%07me%E2%80%AEgnp.txt`)).toBe('evilnamegnp.txt');
    expect(await name(`form-data; name="file"; filename*=UTF-8''%2F%2F`)).toBe('file');
    expect(await name(`form-data; name="file"; filename*=UTF-8''caf%C3%A9.txt`)).toBe('café.txt');
    const long = await name(`form-data; name="file"; filename="${'é'.repeat(5000)}.txt"`);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(255);
    expect(long.endsWith('.txt')).toBe(true);
    // No name at all: "file".
    expect(await name('form-data; name="file"; filename=""')).toBe('file');

    const res = await upload(user, multipart([{ name: 'file', disposition: `form-data; name="file"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.txt`, data: 'x' }]));
    expect(res.json().name).toBe('résumé "final".txt');
    const content = await t.app.inject({ url: `/files/${res.json().id}/content`, headers: user.auth });
    const disposition = String(content.headers['content-disposition']);
    expect(disposition).toContain('attachment; filename="resume \\"final\\".txt"');
    expect(disposition).toContain(`filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.txt`);
  });
});

describe('POST /files: what is refused leaves nothing behind', () => {
  const cases: Array<[string, () => { payload: Buffer; headers: Record<string, string> }, number, string]> = [
    ['an executable renamed .png', () => fileUpload(elfFixture(), 'cat.png', 'image/png'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['an executable sent as octet-stream', () => fileUpload(elfFixture(), 'tool', 'application/octet-stream'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a PDF named .png', () => fileUpload(pdfFixture(), 'x.png'), 415, 'FILE_TYPE_MISMATCH'],
    ['a PDF declared image/png', () => fileUpload(pdfFixture(), 'x', 'image/png'), 415, 'FILE_TYPE_MISMATCH'],
    ['a PNG declared audio/wav', () => fileUpload(pngFixture(), 'x.png', 'audio/wav'), 415, 'FILE_TYPE_MISMATCH'],
    ['text named .pdf', () => fileUpload('just text', 'report.pdf'), 415, 'FILE_TYPE_MISMATCH'],
    ['text declared text/html', () => fileUpload('<script>alert(1)</script>', 'page', 'text/html'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['text with a NUL byte', () => fileUpload(Buffer.from('abc\0def'), 'a.txt'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    // The bad byte comes long after the first chunk: the object was already being written.
    ['invalid UTF-8 late in a long text', () => fileUpload(Buffer.concat([Buffer.alloc(150_000, 'a'), Buffer.from([0xc3, 0x28])]), 'a.txt'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['text ending inside a character', () => fileUpload(Buffer.concat([Buffer.from('abc'), Buffer.from([0xe2, 0x82])]), 'a.txt'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['an empty file', () => fileUpload(Buffer.alloc(0), 'empty.txt'), 400, 'EMPTY_FILE'],
    ['one byte over the cap', () => fileUpload(Buffer.alloc(MAX_BYTES + 1, 'a'), 'big.txt'), 413, 'FILE_TOO_LARGE'],
    ['a body Content-Length already says is too large', () => fileUpload(Buffer.alloc(MAX_BYTES * 2, 'a'), 'big.txt'), 413, 'FILE_TOO_LARGE'],
    ['a PDF over the page limit', () => fileUpload(pdfFixture(4), 'long.pdf'), 422, 'PDF_TOO_MANY_PAGES'],
    ['a PDF declared application/pdf but named .txt', () => fileUpload(pdfFixture(), 'notes.txt', 'application/pdf'), 415, 'FILE_TYPE_MISMATCH'],
    ['two files', () => multipart([{ name: 'file', filename: 'a.txt', data: 'a' }, { name: 'file', filename: 'b.txt', data: 'b' }]), 400, 'TOO_MANY_FILES'],
    ['a second file under another name', () => multipart([{ name: 'file', filename: 'a.txt', data: 'a' }, { name: 'other', filename: 'b.txt', data: 'b' }]), 400, 'TOO_MANY_FILES'],
    ['no file part', () => multipart([{ name: 'note', data: 'hello' }]), 400, 'FILE_PART_MISSING'],
    ['a file part not named file', () => multipart([{ name: 'upload', filename: 'a.txt', data: 'a' }]), 400, 'FILE_PART_MISSING'],
    ['an empty form', () => multipart([]), 400, 'FILE_PART_MISSING'],
    [
      'a body cut off in the middle of the file',
      () => {
        const whole = fileUpload(Buffer.alloc(50_000, 'a'), 'a.txt');
        return { ...whole, payload: whole.payload.subarray(0, 30_000) };
      },
      400,
      'MULTIPART_INVALID',
    ],
    [
      'a body missing its closing boundary',
      () => {
        const whole = fileUpload('short', 'a.txt');
        return { ...whole, payload: whole.payload.subarray(0, whole.payload.length - 10) };
      },
      400,
      'MULTIPART_INVALID',
    ],
    ['too many parts', () => multipart(Array.from({ length: 8 }, (_, i) => ({ name: `f${i}`, data: 'x' }))), 400, 'MULTIPART_INVALID'],
    ['a JSON body', () => ({ payload: Buffer.from('{"file":"x"}'), headers: { 'content-type': 'application/json' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ];

  for (const [what, body, status, code] of cases) {
    it(`${what}: ${status} ${code}`, async () => {
      const user = await signIn(t.app);
      expectProblem(await upload(user, body()), status, code);
      await expectNothingStored(user);
    });
  }

  it('asks for sign-in first', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/files', ...fileUpload('x', 'a.txt') });
    expectProblem(res, 401, 'UNAUTHORIZED');
  });

  it('a client that goes away half-way through its upload leaves no object and no row', async () => {
    const user = await signIn(t.app);
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    expect(address).toContain(String(port));
    const boundary = '----aborted';
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n`);
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/files',
      headers: { ...user.auth, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + 150_000 + 100) },
    });
    req.on('error', () => {});
    req.write(head);
    req.write(Buffer.alloc(60_000, 'a'));
    // Wait until the object is being written, then vanish.
    await waitFor(async () => objectsOf(user.userId).some((path) => path.includes('.partial-')), 5000, 10);
    req.destroy();
    await waitFor(async () => objectsOf(user.userId).length === 0 || undefined, 5000, 20);
    await expectNothingStored(user);
  });
});
