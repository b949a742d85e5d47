import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, filesUnder, fileUpload, pngFixture, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';

const MB = 1024 * 1024;
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ STORAGE_QUOTA_BASIC_BYTES: String(3 * MB) });
});
afterAll(() => t.close());

const upload = async (user: SignedIn, data: Buffer | string, name = 'a.txt') => {
  const body = fileUpload(data, name);
  return t.app.inject({ method: 'POST', url: '/files', payload: body.payload, headers: { ...user.auth, ...body.headers } });
};
const uploaded = async (user: SignedIn, data: Buffer | string = randomBytes(8).toString('hex'), name = 'a.txt') => {
  const res = await upload(user, data, name);
  if (res.statusCode !== 201) throw new Error(`upload failed: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; sizeBytes: number; sha256: string };
};
const storageUsed = async (userId: string) =>
  Number((await t.db.selectFrom('users').select('storage_used_bytes').where('id', '=', userId).executeTakeFirstOrThrow()).storage_used_bytes);
const objectsOf = (userId: string) => filesUnder(t.filesDir).filter((path) => path.startsWith(`files/${userId}/`));

describe('GET /files', () => {
  it('pages the caller\'s files newest first, leaving out deleted ones and other users\'', async () => {
    const user = await signIn(t.app);
    const other = await signIn(t.app);
    await uploaded(other);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await uploaded(user, `file ${i}`)).id);
    await t.app.inject({ method: 'DELETE', url: `/files/${ids[2]}`, headers: user.auth });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.app.inject({ url: '/files', query: { limit: '2', ...(cursor ? { cursor } : {}) }, headers: user.auth });
      expect(res.statusCode).toBe(200);
      const page = res.json() as { items: Array<{ id: string }>; nextCursor: string | null };
      seen.push(...page.items.map((f) => f.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([ids[4], ids[3], ids[1], ids[0]]);

    expectProblem(await t.app.inject({ url: '/files', query: { cursor: 'garbage' }, headers: user.auth }), 400, 'INVALID_CURSOR');
  });
});

describe('another user\'s file', () => {
  it('is 404 on metadata, content and delete, exactly like an unknown id, and stays intact', async () => {
    const alice = await signIn(t.app);
    const bob = await signIn(t.app);
    const file = await uploaded(alice);
    for (const id of [file.id, randomUUID()]) {
      expectProblem(await t.app.inject({ url: `/files/${id}`, headers: bob.auth }), 404, 'FILE_NOT_FOUND');
      expectProblem(await t.app.inject({ url: `/files/${id}/content`, headers: bob.auth }), 404, 'FILE_NOT_FOUND');
      expectProblem(await t.app.inject({ method: 'DELETE', url: `/files/${id}`, headers: bob.auth }), 404, 'FILE_NOT_FOUND');
    }
    expect((await t.app.inject({ url: `/files/${file.id}/content`, headers: alice.auth })).statusCode).toBe(200);
    expect(await storageUsed(alice.userId)).toBe(file.sizeBytes);
    expect(await storageUsed(bob.userId)).toBe(0);
  });
});

describe('GET /files/:id/content with Range', () => {
  it('serves one range as 206, a suffix range, and 416 for a range past the end', async () => {
    const user = await signIn(t.app);
    const png = pngFixture(20, 20);
    const file = await uploaded(user, png, 'p.png');
    const get = (range: string) => t.app.inject({ url: `/files/${file.id}/content`, headers: { ...user.auth, range } });

    const first = await get('bytes=0-9');
    expect(first.statusCode).toBe(206);
    expect(first.headers['content-range']).toBe(`bytes 0-9/${png.length}`);
    expect(first.headers['content-length']).toBe('10');
    expect(first.rawPayload.equals(png.subarray(0, 10))).toBe(true);

    const suffix = await get('bytes=-5');
    expect(suffix.statusCode).toBe(206);
    expect(suffix.rawPayload.equals(png.subarray(png.length - 5))).toBe(true);

    const open = await get(`bytes=${png.length - 3}-`);
    expect(open.rawPayload.equals(png.subarray(png.length - 3))).toBe(true);

    const beyond = await get(`bytes=${png.length + 10}-`);
    expectProblem(beyond, 416, 'RANGE_NOT_SATISFIABLE');
    expect(beyond.headers['content-range']).toBe(`bytes */${png.length}`);

    // A malformed Range is ignored: the whole file.
    const whole = await get('pages=1');
    expect(whole.statusCode).toBe(200);
    expect(whole.rawPayload.equals(png)).toBe(true);
  });
});

describe('DELETE /files/:id', () => {
  it('removes the bytes, gives the storage back, and answers 204 again without giving it back twice', async () => {
    const user = await signIn(t.app);
    const keep = await uploaded(user, 'keep me');
    const file = await uploaded(user, 'delete me');
    expect(await storageUsed(user.userId)).toBe(keep.sizeBytes + file.sizeBytes);

    const [a, b] = await Promise.all([
      t.app.inject({ method: 'DELETE', url: `/files/${file.id}`, headers: user.auth }),
      t.app.inject({ method: 'DELETE', url: `/files/${file.id}`, headers: user.auth }),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([204, 204]);
    expect((await t.app.inject({ method: 'DELETE', url: `/files/${file.id}`, headers: user.auth })).statusCode).toBe(204);
    expect(await storageUsed(user.userId)).toBe(keep.sizeBytes);
    expect(objectsOf(user.userId)).toEqual([`files/${user.userId}/${keep.id}`]);
    expectProblem(await t.app.inject({ url: `/files/${file.id}`, headers: user.auth }), 404, 'FILE_NOT_FOUND');
    expectProblem(await t.app.inject({ url: `/files/${file.id}/content`, headers: user.auth }), 404, 'FILE_NOT_FOUND');
  });
});

describe('the storage quota', () => {
  it('parallel uploads never pass it together: of six 1 MB uploads against 3 MB, at most three are kept', async () => {
    const user = await signIn(t.app);
    const results = await Promise.all(Array.from({ length: 6 }, () => upload(user, randomBytes(MB / 2).toString('hex'))));
    const accepted = results.filter((r) => r.statusCode === 201);
    for (const refused of results.filter((r) => r.statusCode !== 201)) expectProblem(refused, 409, 'STORAGE_QUOTA_EXCEEDED');
    // Exactly three fit (3 × 1 MB = the quota): the charge is atomic, so none is lost and none slips past.
    expect(accepted).toHaveLength(3);

    const rows = await t.db.selectFrom('file').select(['id', 'size_bytes']).where('user_id', '=', user.userId).execute();
    expect(rows.map((r) => r.id).sort()).toEqual(accepted.map((r) => r.json().id).sort());
    expect(await storageUsed(user.userId)).toBe(rows.reduce((sum, r) => sum + Number(r.size_bytes), 0));
    expect(objectsOf(user.userId).sort()).toEqual(rows.map((r) => `files/${user.userId}/${r.id}`).sort());

    // Deleting one makes room again.
    await t.app.inject({ method: 'DELETE', url: `/files/${rows[0]!.id}`, headers: user.auth });
    const again = await upload(user, randomBytes(MB / 2).toString('hex'));
    expect(again.statusCode).toBe(201);
  });
});

describe('storage unavailable', () => {
  it('answers 503 and stores no row when the object cannot be written', async () => {
    // A files directory that cannot be created: its parent is a regular file.
    const blocked = join(t.filesDir, 'not-a-directory');
    writeFileSync(blocked, '');
    const broken = await buildTestApp({ FILES_DIR: join(blocked, 'files') });
    try {
      const user = await signIn(broken.app);
      const body = fileUpload('hello', 'a.txt');
      const res = await broken.app.inject({ method: 'POST', url: '/files', payload: body.payload, headers: { ...user.auth, ...body.headers } });
      expectProblem(res, 503, 'SERVICE_UNAVAILABLE');
      expect(await broken.db.selectFrom('file').selectAll().execute()).toEqual([]);
    } finally {
      await broken.close();
    }
  });
});
