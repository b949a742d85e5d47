import type { Readable } from 'node:stream';

// Where the bytes of uploaded files live. One interface, two drivers (filesystem, s3), one contract test suite.
// Keys are made by the application (never from a client's file name): `files/<userId>/<fileId>`.

export interface StoredObject {
  key: string;
  sizeBytes: number;
  lastModified: Date;
}

/** Inclusive byte range, as HTTP Range speaks it. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ObjectStorage {
  readonly driver: 'filesystem' | 's3';
  /**
   * Streams `body` to `key` and resolves once all of it is stored. If the body errors or ends early (a client
   * that aborts, a size cap that trips), rejects with that error and leaves nothing under `key`. An object appears
   * whole or not at all: readers never see a partial one.
   */
  put(key: string, body: Readable, contentType: string): Promise<void>;
  /** The object's bytes, or the inclusive range of them. Rejects with ObjectNotFoundError when there is none. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** The object's size and time, or undefined when there is none. */
  stat(key: string): Promise<StoredObject | undefined>;
  /** Removes the object; removing one that is not there is not an error. */
  delete(key: string): Promise<void>;
  /** Every stored object under `prefix` (for the orphan sweep), in no particular order. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /**
   * Removes what puts interrupted by a killed process left behind (the filesystem driver's temporary files, S3's
   * open multipart uploads) that are older than `olderThan`, and resolves with how many were removed. A put still
   * running is left alone as long as `olderThan` lies further back than the longest upload takes.
   */
  removeIncomplete(olderThan: Date): Promise<number>;
  close(): Promise<void>;
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`No stored object ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}

/** The storage key of a file: derived from ids only. */
export const fileStorageKey = (userId: string, fileId: string): string => `files/${userId}/${fileId}`;
