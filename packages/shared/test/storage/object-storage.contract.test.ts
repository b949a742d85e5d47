import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { freePort, startS3Server } from '@gemini-chat/testkit';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageConfig } from '../../src/config/config.js';
import { DependencyUnavailableError } from '../../src/errors.js';
import { createStorage } from '../../src/storage/create-storage.js';
import { ObjectNotFoundError, type ObjectStorage } from '../../src/storage/object-storage.js';

const MiB = 1024 * 1024;

/** A driver under test, with the two things only the test may do behind its back: leave and count leftovers. */
interface Harness {
  storage: ObjectStorage;
  /** What a put killed half-way leaves behind for `key`. */
  leaveIncomplete(key: string): Promise<void>;
  /** How many such leftovers exist. */
  incomplete(): Promise<number>;
  teardown(): Promise<void>;
}

const filesystem = {
  name: 'filesystem',
  async setup(): Promise<Harness & { dir: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'storage-contract-'));
    const storage = createStorage({ driver: 'filesystem', dir });
    return {
      dir,
      storage,
      async leaveIncomplete(key) {
        const parent = join(dir, dirname(key));
        await mkdir(parent, { recursive: true });
        await writeFile(join(parent, `.partial-${randomUUID()}`), randomBytes(1024));
      },
      async incomplete() {
        const entries = await readdir(dir, { recursive: true });
        return entries.filter((entry) => entry.split('/').pop()!.startsWith('.partial-')).length;
      },
      async teardown() {
        await storage.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

const s3 = {
  name: 's3',
  async setup(): Promise<Harness> {
    const server = await startS3Server();
    const config: StorageConfig = {
      driver: 's3',
      bucket: server.bucket,
      region: server.region,
      endpoint: server.endpoint,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      forcePathStyle: true,
    };
    const storage = createStorage(config);
    const client = new S3Client({
      region: server.region,
      endpoint: server.endpoint,
      credentials: config.credentials,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    return {
      storage,
      async leaveIncomplete(key) {
        const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: server.bucket, Key: key }));
        await client.send(new UploadPartCommand({ Bucket: server.bucket, Key: key, UploadId, PartNumber: 1, Body: randomBytes(1024) }));
      },
      async incomplete() {
        const out = await client.send(new ListMultipartUploadsCommand({ Bucket: server.bucket }));
        return out.Uploads?.length ?? 0;
      },
      async teardown() {
        client.destroy();
        await storage.close();
        await server.close();
      },
    };
  },
};

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listed(storage: ObjectStorage, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of storage.list(prefix)) keys.push(object.key);
  return keys.sort();
}

/** `total` bytes of random data in 64 KiB chunks, produced as read (never all in memory), and their SHA-256. */
function randomBody(total: number): { body: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  async function* chunks() {
    for (let sent = 0; sent < total; ) {
      const chunk = randomBytes(Math.min(64 * 1024, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      yield chunk;
    }
  }
  return { body: Readable.from(chunks()), sha256: () => hash.digest('hex') };
}

/** `before` bytes, then the stream fails with `error`, as a client that disconnects mid-upload does. */
function failingBody(before: number, error: Error): Readable {
  async function* chunks() {
    for (let sent = 0; sent < before; sent += 64 * 1024) {
      yield randomBytes(64 * 1024);
      await sleep(0);
    }
    throw error;
  }
  return Readable.from(chunks());
}

describe.each([filesystem, s3])('ObjectStorage contract: $name', (driver) => {
  let h: Harness;
  let storage: ObjectStorage;
  const key = (name: string) => `files/${randomUUID()}/${name}`;

  beforeAll(async () => {
    h = await driver.setup();
    storage = h.storage;
  });
  afterAll(async () => {
    await h?.teardown();
  });

  it('stores a body and gives back the same bytes, size and time', async () => {
    const k = key('hello');
    const before = Date.now();
    await storage.put(k, Readable.from([Buffer.from('hello, '), Buffer.from('world')]), 'text/plain');
    expect((await bytesOf(await storage.get(k))).toString()).toBe('hello, world');
    const info = await storage.stat(k);
    expect(info).toMatchObject({ key: k, sizeBytes: 12 });
    // Second precision on S3's side.
    expect(info!.lastModified.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
  });

  it('streams a 12 MB body (several parts on S3) and returns it bit for bit', async () => {
    const k = key('large');
    const { body, sha256 } = randomBody(12 * MiB);
    await storage.put(k, body, 'application/octet-stream');
    const expected = sha256();
    const hash = createHash('sha256');
    for await (const chunk of await storage.get(k)) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(expected);
    expect((await storage.stat(k))?.sizeBytes).toBe(12 * MiB);
  });

  it('reads an inclusive byte range', async () => {
    const k = key('range');
    const data = randomBytes(1000);
    await storage.put(k, Readable.from([data]), 'application/octet-stream');
    expect(await bytesOf(await storage.get(k, { start: 10, end: 19 }))).toEqual(data.subarray(10, 20));
    expect(await bytesOf(await storage.get(k, { start: 999, end: 999 }))).toEqual(data.subarray(999));
    expect(await bytesOf(await storage.get(k, { start: 0, end: 999 }))).toEqual(data);
  });

  it('says a missing object is not found: get rejects, stat is undefined', async () => {
    const k = key('missing');
    await expect(storage.get(k)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(storage.get(k, { start: 0, end: 10 })).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await storage.stat(k)).toBeUndefined();
  });

  it('deletes, and deleting again or deleting what never existed is not an error', async () => {
    const k = key('gone');
    await storage.put(k, Readable.from([Buffer.from('x')]), 'text/plain');
    await storage.delete(k);
    await storage.delete(k);
    await storage.delete(key('never'));
    expect(await storage.stat(k)).toBeUndefined();
    await expect(storage.get(k)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('lists only the objects under the prefix, and never an incomplete one', async () => {
    const user = randomUUID();
    const put = (k: string) => storage.put(k, Readable.from([Buffer.from(k)]), 'text/plain');
    await Promise.all([put(`files/${user}/a`), put(`files/${user}/b`), put(`files/${user}0/c`), put(`files/${randomUUID()}/d`)]);
    await h.leaveIncomplete(`files/${user}/half`);
    const objects = [];
    for await (const object of storage.list(`files/${user}/`)) objects.push(object);
    expect(objects.map((o) => o.key).sort()).toEqual([`files/${user}/a`, `files/${user}/b`]);
    expect(objects.every((o) => o.sizeBytes === `files/${user}/a`.length && o.lastModified instanceof Date)).toBe(true);
    expect(await listed(storage, `files/${randomUUID()}/`)).toEqual([]);
    await storage.removeIncomplete(new Date(Date.now() + 60_000));
  });

  it.each([
    ['within the first part', 256 * 1024],
    ['after the first part went up', 7 * MiB],
  ])('a body that fails %s rejects the put with its error and leaves nothing', async (_, before) => {
    const user = randomUUID();
    const k = `files/${user}/broken`;
    const error = new Error('client went away');
    await expect(storage.put(k, failingBody(before, error), 'application/octet-stream')).rejects.toBe(error);
    expect(await storage.stat(k)).toBeUndefined();
    await expect(storage.get(k)).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await listed(storage, `files/${user}/`)).toEqual([]);
    expect(await h.incomplete()).toBe(0);
  });

  it('a body destroyed without an error (a dropped connection) rejects the put and leaves nothing', async () => {
    const user = randomUUID();
    const k = `files/${user}/dropped`;
    const body = new Readable({ read() {} });
    body.push(randomBytes(6 * MiB));
    setTimeout(() => body.destroy(), 50);
    await expect(storage.put(k, body, 'application/octet-stream')).rejects.toThrow();
    expect(await storage.stat(k)).toBeUndefined();
    expect(await listed(storage, `files/${user}/`)).toEqual([]);
    expect(await h.incomplete()).toBe(0);
  });

  it('keeps concurrent puts to different keys apart', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => ({ k: key(`c${i}`), data: randomBytes(50_000 + i * 1000) }));
    await Promise.all(bodies.map(({ k, data }) => storage.put(k, Readable.from([data]), 'application/octet-stream')));
    for (const { k, data } of bodies) expect(await bytesOf(await storage.get(k))).toEqual(data);
  });

  it('replaces an object whole: a shorter overwrite leaves no tail of the longer one', async () => {
    const k = key('overwrite');
    await storage.put(k, randomBody(6 * MiB).body, 'application/octet-stream');
    await storage.put(k, Readable.from([Buffer.from('short')]), 'text/plain');
    expect((await bytesOf(await storage.get(k))).toString()).toBe('short');
    expect((await storage.stat(k))?.sizeBytes).toBe(5);
  });

  it('removes incomplete leftovers older than the cutoff and leaves younger ones', async () => {
    await storage.removeIncomplete(new Date(Date.now() + 60_000));
    await h.leaveIncomplete(key('stale'));
    await sleep(50);
    const cutoff = new Date();
    await sleep(50);
    await h.leaveIncomplete(key('fresh'));
    expect(await storage.removeIncomplete(cutoff)).toBe(1);
    expect(await h.incomplete()).toBe(1);
    expect(await storage.removeIncomplete(new Date(Date.now() + 60_000))).toBe(1);
    expect(await h.incomplete()).toBe(0);
    expect(await storage.removeIncomplete(new Date(Date.now() + 60_000))).toBe(0);
  });
});

describe('filesystem driver', () => {
  let h: Awaited<ReturnType<typeof filesystem.setup>>;
  beforeAll(async () => {
    h = await filesystem.setup();
  });
  afterAll(async () => {
    await h?.teardown();
  });

  it.each(['../escape', 'files/../../escape', '/tmp/escape', 'files/u/../../../escape', '', '.'])(
    'refuses the key %j, which is not inside its directory',
    async (k) => {
      await expect(h.storage.put(k, Readable.from([Buffer.from('x')]), 'text/plain')).rejects.toThrow(/outside/);
      await expect(h.storage.get(k)).rejects.toThrow(/outside/);
      await expect(h.storage.delete(k)).rejects.toThrow(/outside/);
      expect(existsSync(join(h.dir, '..', 'escape'))).toBe(false);
    },
  );

  it('refuses a key that would pass for a temporary file', async () => {
    await expect(h.storage.put('files/u/.partial-x', Readable.from([Buffer.from('x')]), 'text/plain')).rejects.toThrow(/temporary/);
  });

  it('leaves no empty directory behind its last object, and a put racing the delete still lands', async () => {
    await h.storage.put('files/gone/a', Readable.from([Buffer.from('a')]), 'text/plain');
    await h.storage.delete('files/gone/a');
    expect(existsSync(join(h.dir, 'files', 'gone'))).toBe(false);
    expect(existsSync(join(h.dir, 'files'))).toBe(true);

    await h.storage.put('files/busy/a', Readable.from([Buffer.from('a')]), 'text/plain');
    for (let i = 0; i < 20; i++) {
      await Promise.all([h.storage.delete('files/busy/a'), h.storage.put(`files/busy/b${i}`, Readable.from([Buffer.from('b')]), 'text/plain')]);
      expect(await h.storage.stat(`files/busy/b${i}`)).toMatchObject({ sizeBytes: 1 });
      await h.storage.put('files/busy/a', Readable.from([Buffer.from('a')]), 'text/plain');
      await h.storage.delete(`files/busy/b${i}`);
    }
  });
});

describe('s3 driver', () => {
  const config = (endpoint: string, accessKeyId = 'S3RVER'): StorageConfig => ({
    driver: 's3',
    bucket: 'unreachable',
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId, secretAccessKey: 'S3RVER' },
    forcePathStyle: true,
  });

  it('answers DependencyUnavailableError quickly when nothing listens at the endpoint', async () => {
    const storage = createStorage(config(`http://127.0.0.1:${await freePort()}`));
    const started = Date.now();
    await expect(storage.put('files/u/f', Readable.from([Buffer.from('x')]), 'text/plain')).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(storage.get('files/u/f')).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(storage.stat('files/u/f')).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(storage.delete('files/u/f')).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(listed(storage, 'files/')).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(storage.removeIncomplete(new Date())).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(Date.now() - started).toBeLessThan(10_000);
    await storage.close();
  });

  it('answers DependencyUnavailableError when the store keeps failing with 5xx, and gives up rather than hang', async () => {
    let requests = 0;
    const failing = createServer((req, res) => {
      requests++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>busy</Message></Error>');
    });
    await new Promise<void>((ok) => failing.listen(0, '127.0.0.1', ok));
    const { port } = failing.address() as { port: number };
    const storage = createStorage(config(`http://127.0.0.1:${port}`));
    try {
      await expect(storage.get('files/u/f')).rejects.toBeInstanceOf(DependencyUnavailableError);
      await expect(storage.put('files/u/f', Readable.from([Buffer.from('x')]), 'text/plain')).rejects.toBeInstanceOf(
        DependencyUnavailableError,
      );
      expect(requests).toBeGreaterThan(1);
    } finally {
      await storage.close();
      failing.closeAllConnections();
      await new Promise((ok) => failing.close(ok));
    }
  });

  it('does not pass a refusal of our own credentials off as an outage', async () => {
    const server = await startS3Server();
    const storage = createStorage({ ...config(server.endpoint, 'NOT-OUR-KEY'), bucket: server.bucket } as StorageConfig);
    try {
      const err = await storage.get('files/u/f').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(S3ServiceException);
      expect(err).not.toBeInstanceOf(DependencyUnavailableError);
      expect((err as S3ServiceException).$metadata.httpStatusCode).toBe(403);
    } finally {
      await storage.close();
      await server.close();
    }
  });
});
