import { randomUUID } from 'node:crypto';
import { createReadStream, type Dir } from 'node:fs';
import { mkdir, open, opendir, rename, rm, rmdir, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ObjectNotFoundError, type ByteRange, type ObjectStorage, type StoredObject } from './object-storage.js';

// Objects are files under one directory. A put writes a temporary file beside the target and renames it into
// place once complete (rename is atomic within a file system), so a reader sees the whole object or none, and a
// failed put removes its temporary file. Temporary files carry a `.partial-` prefix that list() never reports.
const PARTIAL = '.partial-';

export function createFilesystemStorage(dir: string): ObjectStorage {
  const root = resolve(dir);
  const pathOf = (key: string): string => {
    const path = resolve(root, key);
    // Keys come from ids, but a key must never reach outside the root whatever it holds.
    if (!path.startsWith(root + sep)) throw new Error(`Storage key outside the files directory: ${key}`);
    // Nor may it pass for a temporary file, which list() hides and removeIncomplete() deletes.
    if (key.split('/').some((segment) => segment.startsWith(PARTIAL))) throw new Error(`Storage key names a temporary file: ${key}`);
    return path;
  };

  return {
    driver: 'filesystem',

    async put(key, body: Readable) {
      const target = pathOf(key);
      const { path: temporary, handle } = await createTemporary(dirname(target));
      try {
        await pipeline(body, handle.createWriteStream());
        await rename(temporary, target);
      } catch (err) {
        await rm(temporary, { force: true });
        throw err;
      }
    },

    async get(key, range?: ByteRange) {
      const path = pathOf(key);
      const stream = createReadStream(path, range ? { start: range.start, end: range.end } : {});
      // Open eagerly so a missing object rejects here rather than as a stream error mid-response.
      await new Promise<void>((ok, fail) => {
        stream.once('open', () => ok());
        stream.once('error', (err: NodeJS.ErrnoException) => fail(err.code === 'ENOENT' ? new ObjectNotFoundError(key) : err));
      });
      return stream;
    },

    async stat(key) {
      try {
        const info = await stat(pathOf(key));
        return info.isFile() ? { key, sizeBytes: info.size, lastModified: info.mtime } : undefined;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },

    async delete(key) {
      const path = pathOf(key);
      await rm(path, { force: true });
      // No empty directory is left behind (a user's directory goes with their last file). rmdir refuses a
      // directory that is not empty, and a put racing this makes the directory again (createTemporary).
      if (dirname(path) !== root) await rmdir(dirname(path)).catch(() => undefined);
    },

    async *list(prefix) {
      yield* walk(root, root, prefix);
    },

    async removeIncomplete(olderThan) {
      // A temporary file's time is that of its last write, so a put that is still receiving bytes is never taken.
      let removed = 0;
      for await (const path of partials(root)) {
        const info = await stat(path).catch(() => undefined);
        if (!info || info.mtime >= olderThan) continue;
        await rm(path, { force: true });
        removed++;
      }
      return removed;
    },

    async close() {},
  };
}

/** The directory's entries, or undefined when there is no such directory (nothing stored under it yet). */
async function openDirIfExists(dir: string): Promise<Dir | undefined> {
  try {
    return await opendir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function* partials(dir: string): AsyncIterable<string> {
  const handle = await openDirIfExists(dir);
  if (!handle) return;
  for await (const entry of handle) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* partials(path);
    else if (entry.isFile() && entry.name.startsWith(PARTIAL)) yield path;
  }
}

/** A new temporary file in `directory`, made if missing (again, if a delete removed it in between). */
async function createTemporary(directory: string): Promise<{ path: string; handle: FileHandle }> {
  for (let attempt = 1; ; attempt++) {
    await mkdir(directory, { recursive: true });
    const path = join(directory, `${PARTIAL}${randomUUID()}`);
    try {
      return { path, handle: await open(path, 'wx') };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 3) throw err;
    }
  }
}

async function* walk(root: string, dir: string, prefix: string): AsyncIterable<StoredObject> {
  const handle = await openDirIfExists(dir);
  if (!handle) return;
  for await (const entry of handle) {
    const path = join(dir, entry.name);
    const key = relative(root, path).split(sep).join('/');
    if (entry.isDirectory()) {
      // Only descend where keys under the prefix can be.
      if (prefix.startsWith(`${key}/`) || `${key}/`.startsWith(prefix)) yield* walk(root, path, prefix);
    } else if (entry.isFile() && !entry.name.startsWith(PARTIAL) && key.startsWith(prefix)) {
      const info = await stat(path).catch(() => undefined);
      if (info) yield { key, sizeBytes: info.size, lastModified: info.mtime };
    }
  }
}
