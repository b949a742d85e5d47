import { createHash, randomBytes } from 'node:crypto';

// The fake's Files API storage: uploaded bytes kept in memory (tests upload small files), the resumable upload
// sessions that fill them, and the clock rules Google applies (files expire after 48 hours). Ids are lowercase
// letters and digits only: given a file's uri, @google/genai keeps only `[a-z0-9]+` after `files/`, so an id
// with a dash would be cut short by the SDK itself.

export const GOOGLE_FILES_ORIGIN = 'https://generativelanguage.googleapis.com';
export const DEFAULT_FILE_TTL_MS = 48 * 60 * 60 * 1000;
// Google's per-file limit.
export const MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024;

export type FileState = 'PROCESSING' | 'ACTIVE' | 'FAILED';

export interface StoredFile {
  // The id after `files/`.
  id: string;
  displayName: string | undefined;
  mimeType: string;
  bytes: Buffer;
  // Hex digest of the bytes (the wire carries it base64).
  sha256: string;
  createTime: Date;
  updateTime: Date;
  expiresAt: Date;
  state: FileState;
}

// A file as tests see it (`fake.files`).
export interface FakeFile {
  name: string;
  uri: string;
  displayName: string | undefined;
  mimeType: string;
  sizeBytes: number;
  sha256: string;
  bytes: Buffer;
  state: FileState;
  expirationTime: string;
  expired: boolean;
}

// The File resource on the wire.
export interface WireFile {
  name: string;
  displayName?: string;
  mimeType: string;
  sizeBytes: string;
  createTime: string;
  updateTime: string;
  expirationTime: string;
  sha256Hash: string;
  uri: string;
  state: FileState;
  source: 'UPLOADED';
}

export interface UploadSession {
  id: string;
  // `files/<id>` when the client chose the name.
  requestedId: string | undefined;
  displayName: string | undefined;
  mimeType: string;
  declaredSize: number;
  chunks: Buffer[];
  received: number;
}

export type LookupResult = { file: StoredFile } | { missing: true };

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function newId(length: number): string {
  const random = randomBytes(length);
  return Array.from(random, (byte) => ID_ALPHABET[byte % ID_ALPHABET.length]).join('');
}

export const fileUri = (id: string, apiVersion = 'v1beta'): string => `${GOOGLE_FILES_ORIGIN}/${apiVersion}/files/${id}`;

export class FileStore {
  private readonly files = new Map<string, StoredFile>();
  private readonly sessions = new Map<string, UploadSession>();
  // Uploads still to finish in PROCESSING (they turn ACTIVE on their next get).
  private processingUploads = 0;

  constructor(private readonly ttlMs: number = DEFAULT_FILE_TTL_MS) {}

  has(id: string): boolean {
    return this.files.has(id);
  }

  startSession(input: Omit<UploadSession, 'id' | 'chunks' | 'received'>): UploadSession {
    const session: UploadSession = { ...input, id: newId(24), chunks: [], received: 0 };
    this.sessions.set(session.id, session);
    return session;
  }

  session(uploadId: string): UploadSession | undefined {
    return this.sessions.get(uploadId);
  }

  endSession(uploadId: string): void {
    this.sessions.delete(uploadId);
  }

  // Turns a complete session into a file; the session ends either way.
  finalize(session: UploadSession): StoredFile {
    this.sessions.delete(session.id);
    const bytes = Buffer.concat(session.chunks);
    const now = new Date();
    let id = session.requestedId;
    while (id === undefined || this.files.has(id)) id = newId(12);
    const processing = this.processingUploads > 0;
    if (processing) this.processingUploads -= 1;
    const file: StoredFile = {
      id,
      displayName: session.displayName,
      mimeType: session.mimeType,
      bytes,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      createTime: now,
      updateTime: now,
      expiresAt: new Date(now.getTime() + this.ttlMs),
      state: processing ? 'PROCESSING' : 'ACTIVE',
    };
    this.files.set(id, file);
    return file;
  }

  // A file that is gone or past its expirationTime is missing: Google answers both the same way.
  lookup(id: string): LookupResult {
    const file = this.files.get(id);
    if (!file || this.isExpired(file)) return { missing: true };
    return { file };
  }

  // files.get: a PROCESSING file has finished by the time it is looked at again.
  getForClient(id: string): LookupResult {
    const found = this.lookup(id);
    if ('file' in found && found.file.state === 'PROCESSING') {
      found.file.state = 'ACTIVE';
      found.file.updateTime = new Date();
    }
    return found;
  }

  // Live files, oldest first.
  list(): StoredFile[] {
    return [...this.files.values()].filter((file) => !this.isExpired(file));
  }

  delete(id: string): boolean {
    const found = this.lookup(id);
    if ('missing' in found) return false;
    return this.files.delete(id);
  }

  // Test hook: the file's 48 hours are up now.
  expire(id: string): boolean {
    const file = this.files.get(id);
    if (!file) return false;
    file.expiresAt = new Date(Date.now() - 1);
    return true;
  }

  processNextUploads(count: number): void {
    this.processingUploads = Math.max(0, Math.floor(count));
  }

  views(): FakeFile[] {
    return [...this.files.values()].map((file) => ({
      name: `files/${file.id}`,
      uri: fileUri(file.id),
      displayName: file.displayName,
      mimeType: file.mimeType,
      sizeBytes: file.bytes.length,
      sha256: file.sha256,
      bytes: file.bytes,
      state: file.state,
      expirationTime: file.expiresAt.toISOString(),
      expired: this.isExpired(file),
    }));
  }

  reset(): void {
    this.files.clear();
    this.sessions.clear();
    this.processingUploads = 0;
  }

  private isExpired(file: StoredFile): boolean {
    return file.expiresAt.getTime() <= Date.now();
  }
}

export function wireFile(file: StoredFile, apiVersion = 'v1beta'): WireFile {
  return {
    name: `files/${file.id}`,
    ...(file.displayName !== undefined ? { displayName: file.displayName } : {}),
    mimeType: file.mimeType,
    sizeBytes: String(file.bytes.length),
    createTime: file.createTime.toISOString(),
    updateTime: file.updateTime.toISOString(),
    expirationTime: file.expiresAt.toISOString(),
    sha256Hash: Buffer.from(file.sha256, 'hex').toString('base64'),
    uri: fileUri(file.id, apiVersion),
    state: file.state,
    source: 'UPLOADED',
  };
}
