import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AppError,
  DependencyUnavailableError,
  ObjectNotFoundError,
  conflict,
  fileStorageKey,
  notFound,
  type ByteRange,
  type FileRow,
  type FilesConfig,
  type Logger,
  type ObjectStorage,
  type Store,
} from '@gemini-chat/shared';
import type { FileInfo, FileList } from '../schemas/file.schemas.js';
import { decodeCreatedAtCursor, newestFirstPage } from '../lib/cursor.js';
import { SNIFF_BYTES, classify, createInspector, emptyFile, sanitizeFileName } from '../lib/file-inspection.js';
import { toFile } from './mappers.js';

/** One uploaded part as the route hands it over. */
export interface UploadPart {
  filename: string | undefined;
  /** The part's Content-Type, as the client declared it. */
  declaredType: string | undefined;
  /** The bytes; errors of the client's body arrive already as AppErrors. */
  bytes: AsyncIterable<Buffer>;
  /** Reads the rest of the body once the file is stored, refusing a second file or a malformed end. */
  rest(): Promise<void>;
}


/** A storage failure is an outage (503); what the client sent is already an AppError. */
const storageFailure = (err: unknown): Error => (err instanceof AppError ? err : new DependencyUnavailableError('storage', err));

export function createFileService(deps: { store: Store; storage: ObjectStorage; config: FilesConfig; log: Logger }) {
  const { store, storage, config, log } = deps;

  /** Removes objects whose file is gone; a failure is logged (the worker's sweep removes what is left). */
  async function deleteObjects(keys: string[]): Promise<void> {
    await Promise.all(
      keys.map((key) => storage.delete(key).catch((err: unknown) => log.warn({ err, key }, 'could not delete a stored object; the sweep will'))),
    );
  }

  async function requireLive(userId: string, id: string): Promise<FileRow> {
    const row = await store.files.findOwned(userId, id);
    if (!row || row.deleted_at) throw notFound('file');
    return row;
  }

  return {
    /**
     * Stores an upload: its type from its first bytes before anything is written, its bytes streamed to storage
     * while they are measured, hashed and checked, then its row and its storage charge in one transaction. Any
     * failure leaves neither object nor row.
     */
    async upload(userId: string, part: UploadPart): Promise<FileInfo> {
      const name = sanitizeFileName(part.filename);
      const source = part.bytes[Symbol.asyncIterator]();
      const chunks: Buffer[] = [];
      let headBytes = 0;
      let ended = false;
      while (headBytes < SNIFF_BYTES) {
        const next = await source.next();
        if (next.done) {
          ended = true;
          break;
        }
        chunks.push(next.value);
        headBytes += next.value.length;
      }
      const head = Buffer.concat(chunks);
      if (head.length === 0) throw emptyFile();
      const { mimeType, kind } = await classify(head.subarray(0, SNIFF_BYTES), name, part.declaredType);

      const inspector = createInspector(kind, config);
      let measured: ReturnType<typeof inspector.finish> | undefined;
      async function* inspected(): AsyncGenerator<Buffer> {
        inspector.update(head);
        yield head;
        if (!ended) {
          for (;;) {
            const next = await source.next();
            if (next.done) break;
            inspector.update(next.value);
            yield next.value;
          }
        }
        // Before the generator ends, so a failing check fails the put and nothing is stored.
        measured = inspector.finish();
      }

      const id = randomUUID();
      const key = fileStorageKey(userId, id);
      try {
        await storage.put(key, Readable.from(inspected(), { objectMode: false }), mimeType);
      } catch (err) {
        // Stop reading the client's body (its stream is released) whatever failed.
        void source.return?.()?.catch(() => {});
        throw storageFailure(err);
      }
      try {
        await part.rest();
        const stored = measured!;
        const row = await store.transaction(async (tx) => {
          if (!(await tx.files.chargeStorage(userId, stored.sizeBytes, config.quotaBytes))) {
            throw conflict('STORAGE_QUOTA_EXCEEDED', 'This file would take your stored files over your plan\'s storage; delete some files first.');
          }
          return tx.files.insert({ id, userId, name, mimeType, storageKey: key, ...stored });
        });
        return toFile(row);
      } catch (err) {
        await deleteObjects([key]);
        throw err;
      }
    },

    async list(userId: string, limit: number, cursor?: string): Promise<FileList> {
      const rows = await store.files.listOwned(userId, limit + 1, cursor ? decodeCreatedAtCursor(cursor) : undefined);
      return newestFirstPage(rows, limit, toFile);
    },

    async get(userId: string, id: string): Promise<FileInfo> {
      return toFile(await requireLive(userId, id));
    },

    /** The file and a stream of its bytes (or of one range of them). */
    async content(userId: string, id: string, range?: ByteRange): Promise<{ file: FileRow; body: Readable }> {
      const file = await requireLive(userId, id);
      try {
        return { file, body: await storage.get(file.storage_key, range) };
      } catch (err) {
        // A row whose object is gone (deleted meanwhile, or lost): nothing to serve.
        if (err instanceof ObjectNotFoundError) throw notFound('file');
        throw storageFailure(err);
      }
    },

    /**
     * Marks the file deleted, gives its bytes back, removes its object. Idempotent: a file already deleted answers
     * the same (and its object is removed again, should an earlier attempt have failed); of two racing deletes only
     * one gives the bytes back.
     */
    async remove(userId: string, id: string): Promise<void> {
      const row = await store.files.findOwned(userId, id);
      if (!row) throw notFound('file');
      await store.transaction(async (tx) => {
        const removed = await tx.files.softDeleteOwned(userId, id);
        if (removed) await tx.files.releaseStorage(userId, removed.size_bytes);
      });
      try {
        await storage.delete(row.storage_key);
      } catch (err) {
        throw storageFailure(err);
      }
    },

    /** Removes objects of files already marked deleted in the database (after a chatroom's deletion). */
    deleteObjects,
  };
}
export type FileService = ReturnType<typeof createFileService>;
