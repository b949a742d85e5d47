import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorage, createStore, fileStorageKey, type ObjectStorage } from '@gemini-chat/shared';
import { buildTestApp, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';
import { createFilesSweeper } from '../src/files-sweeper.js';

let t: TestApp;
let dir: string;
let storage: ObjectStorage;
let user: SignedIn;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'files-sweep-'));
  t = await buildTestApp({ FILES_DIR: dir, FILES_ORPHAN_GRACE_SECONDS: '600' });
  storage = createStorage(t.config.files.storage);
  user = await signIn(t.app);
});
afterAll(async () => {
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

const sweeper = () => createFilesSweeper({ attachments: createStore(t.db).attachments, storage, config: t.config.files, log: pino({ level: 'silent' }) });

/** Stores bytes under a fresh file key, `ageSeconds` old. */
async function storeObject(bytes: string, ageSeconds = 0): Promise<{ id: string; key: string }> {
  const id = randomUUID();
  const key = fileStorageKey(user.userId, id);
  await storage.put(key, Readable.from([Buffer.from(bytes)]), 'text/plain');
  if (ageSeconds) {
    const then = new Date(Date.now() - ageSeconds * 1000);
    await utimes(join(dir, key), then, then);
  }
  return { id, key };
}

/** A file row for an object (charged to the user as an upload would), created `ageSeconds` ago. */
async function insertFile(object: { id: string; key: string }, bytes: string, ageSeconds = 0, deleted = false) {
  await t.db
    .insertInto('file')
    .values({
      id: object.id,
      user_id: user.userId,
      name: `${object.id}.txt`,
      mime_type: 'text/plain',
      size_bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      storage_key: object.key,
      created_at: new Date(Date.now() - ageSeconds * 1000),
      deleted_at: deleted ? new Date() : null,
    })
    .execute();
  if (!deleted) {
    await t.db
      .updateTable('users')
      .set({ storage_used_bytes: sql`storage_used_bytes + ${bytes.length}` })
      .where('id', '=', user.userId)
      .execute();
  }
}

const usedBytes = async () => Number((await t.db.selectFrom('users').select('storage_used_bytes').where('id', '=', user.userId).executeTakeFirstOrThrow()).storage_used_bytes);
const deletedAt = async (id: string) => (await t.db.selectFrom('file').select('deleted_at').where('id', '=', id).executeTakeFirstOrThrow()).deleted_at;

describe('the files sweep', () => {
  it('removes old objects without a live file, marks files without bytes deleted once, and keeps the rest', async () => {
    const healthy = await storeObject('healthy bytes', 7200);
    await insertFile(healthy, 'healthy bytes', 7200);
    const orphan = await storeObject('left by a crashed upload', 7200);
    const uploading = await storeObject('an upload still finishing'); // inside the grace period: its row may be coming
    const deletedButStored = await storeObject('delete crashed after the row', 7200);
    await insertFile(deletedButStored, 'delete crashed after the row', 7200, true);
    const lost = { id: randomUUID(), key: '' };
    lost.key = fileStorageKey(user.userId, lost.id);
    await insertFile(lost, '12345678901', 7200); // its bytes were never there (or storage lost them)
    const outside = 'not-files/kept'; // only keys under files/ are the sweep's
    await storage.put(outside, Readable.from([Buffer.from('x')]), 'text/plain');
    const then = new Date(Date.now() - 7200_000);
    await utimes(join(dir, outside), then, then);
    // What a put killed mid-way leaves: the driver's temporary file, old or still being written.
    const userDir = join(dir, 'files', user.userId);
    const stalePartial = join(userDir, `.partial-${randomUUID()}`);
    const livePartial = join(userDir, `.partial-${randomUUID()}`);
    await writeFile(stalePartial, 'half an upload');
    await utimes(stalePartial, then, then);
    await writeFile(livePartial, 'an upload streaming now');
    const before = await usedBytes();

    const result = await sweeper().sweep();
    expect(result).toEqual({ removedObjects: 2, markedMissing: 1, removedIncomplete: 1 });
    await expect(stat(stalePartial)).rejects.toThrow();
    expect((await stat(livePartial)).isFile()).toBe(true);
    expect(await storage.stat(orphan.key)).toBeUndefined();
    expect(await storage.stat(deletedButStored.key)).toBeUndefined();
    expect(await storage.stat(uploading.key)).toBeDefined();
    expect(await storage.stat(healthy.key)).toBeDefined();
    expect(await storage.stat(outside)).toBeDefined();
    expect(await deletedAt(healthy.id)).toBeNull();
    expect(await deletedAt(lost.id)).toBeInstanceOf(Date);
    expect(await usedBytes()).toBe(before - 11);

    // Again, and from two workers at once: nothing more to do, the size is not given back twice.
    expect(await Promise.all([sweeper().sweep(), sweeper().sweep()])).toEqual([
      { removedObjects: 0, markedMissing: 0, removedIncomplete: 0 },
      { removedObjects: 0, markedMissing: 0, removedIncomplete: 0 },
    ]);
    expect(await usedBytes()).toBe(before - 11);
  });

  it('leaves a file whose row was written after the listing began (its object is there, just not listed)', async () => {
    // A row newer than the sweep's start is not judged by that sweep's listing.
    const late = { id: randomUUID(), key: '' };
    late.key = fileStorageKey(user.userId, late.id);
    await insertFile(late, 'abc', -60);
    expect((await sweeper().sweep()).markedMissing).toBe(0);
    expect(await deletedAt(late.id)).toBeNull();
  });

  it('gives a missing file\'s size back once even when it is marked by racing sweeps', async () => {
    const lost = { id: randomUUID(), key: '' };
    lost.key = fileStorageKey(user.userId, lost.id);
    await insertFile(lost, 'x'.repeat(1000), 60);
    const before = await usedBytes();
    const attachments = createStore(t.db).attachments;
    const marks = await Promise.all(Array.from({ length: 5 }, () => attachments.markMissing(lost.id)));
    expect(marks.filter(Boolean)).toHaveLength(1);
    expect(await usedBytes()).toBe(before - 1000);
  });
});
