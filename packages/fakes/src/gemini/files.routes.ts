import { fileNotFoundError, googleError } from './gemini-errors.js';
import { GOOGLE_FILES_ORIGIN, MAX_FILE_BYTES, wireFile, type FileStore } from './file-store.js';
import { asObject, drain, header, readRawBody, sendError, sendOk, type Exchange } from './http-exchange.js';
import type { ApiVersion } from './wire.types.js';

// The Files API as @google/genai 2.32 speaks it (files.upload / get / list / delete).
//
// Upload is Google's resumable protocol in two steps:
//   POST /upload/v1beta/files            X-Goog-Upload-Protocol: resumable, X-Goog-Upload-Command: start,
//                                        X-Goog-Upload-Header-Content-Length / -Content-Type,
//                                        body {"file":{"mimeType","displayName"?,"sizeBytes"?,"name"?}}
//     -> 200, X-Goog-Upload-URL: https://generativelanguage.googleapis.com/upload/v1beta/files?upload_id=…
//        (the SDK swaps that URL's origin for its baseUrl, which brings it back here)
//   POST <upload URL>                    X-Goog-Upload-Command: "upload" or "upload, finalize", X-Goog-Upload-Offset,
//                                        the raw bytes (the SDK sends 8 MiB chunks)
//     -> 200 X-Goog-Upload-Status: active per chunk; on finalize `final` and {"file": File}.
// A chunk whose offset is not the number of bytes received so far, or that goes past the declared size, is
// refused (400) and changes nothing; a finalize short of the declared size ends the session with nothing stored.
// Then GET /{v}/files/{id}, GET /{v}/files?pageSize&pageToken, DELETE /{v}/files/{id}; a missing or expired file
// is Google's 403 PERMISSION_DENIED.

const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 100;
const MAX_DISPLAY_NAME_CHARS = 512;
// A name the client may choose: `files/` and up to 40 of [a-z0-9-], not starting or ending with a dash.
const CHOSEN_NAME = /^files\/([a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?)$/;

const invalid = (message: string) => googleError(400, { message });

export function startUpload(ex: Exchange, store: FileStore): void {
  if (header(ex, 'x-goog-upload-protocol').toLowerCase() !== 'resumable') {
    return sendError(ex, invalid('Only the resumable upload protocol is supported (X-Goog-Upload-Protocol: resumable).'));
  }
  if (header(ex, 'x-goog-upload-command').toLowerCase() !== 'start') {
    return sendError(ex, invalid('X-Goog-Upload-Command must be "start" to begin an upload.'));
  }
  const file = asObject(asObject(ex.record.body).file);
  const sizeHeader = header(ex, 'x-goog-upload-header-content-length');
  const declared = sizeHeader !== '' ? sizeHeader : typeof file.sizeBytes === 'string' ? file.sizeBytes : String(file.sizeBytes ?? '');
  if (!/^\d+$/.test(declared)) return sendError(ex, invalid('X-Goog-Upload-Header-Content-Length must give the file size in bytes.'));
  const size = Number(declared);
  if (file.sizeBytes !== undefined && String(file.sizeBytes) !== declared) {
    return sendError(ex, invalid(`file.sizeBytes (${String(file.sizeBytes)}) does not match X-Goog-Upload-Header-Content-Length (${declared}).`));
  }
  if (size === 0) return sendError(ex, invalid('The file is empty.'));
  if (size > MAX_FILE_BYTES) return sendError(ex, invalid(`The file is larger than the ${MAX_FILE_BYTES} bytes allowed.`));
  const mimeType = typeof file.mimeType === 'string' && file.mimeType !== '' ? file.mimeType : header(ex, 'x-goog-upload-header-content-type');
  if (mimeType === '') return sendError(ex, invalid('* CreateFileRequest.file.mime_type: mime_type is not specified\n'));
  const displayName = file.displayName;
  if (displayName !== undefined && (typeof displayName !== 'string' || displayName.length > MAX_DISPLAY_NAME_CHARS)) {
    return sendError(ex, invalid(`file.displayName must be a string of at most ${MAX_DISPLAY_NAME_CHARS} characters.`));
  }
  let requestedId: string | undefined;
  if (file.name !== undefined) {
    const chosen = typeof file.name === 'string' ? CHOSEN_NAME.exec(file.name) : null;
    if (!chosen) return sendError(ex, invalid(`Invalid file name ${JSON.stringify(file.name)}: use files/ and up to 40 of [a-z0-9-].`));
    requestedId = chosen[1];
    if (store.has(requestedId!)) {
      return sendError(ex, googleError(409, { status: 'ALREADY_EXISTS', message: `File ${String(file.name)} already exists.` }));
    }
  }
  const session = store.startSession({ requestedId, displayName, mimeType, declaredSize: size });
  const uploadUrl = `${GOOGLE_FILES_ORIGIN}/upload/v1beta/files?upload_id=${session.id}&upload_protocol=resumable`;
  sendOk(ex, {}, { 'x-goog-upload-url': uploadUrl, 'x-goog-upload-status': 'active', 'x-goog-upload-chunk-granularity': '8388608' });
}

export async function uploadChunk(ex: Exchange, store: FileStore, apiVersion: ApiVersion): Promise<void> {
  const session = store.session(ex.url.searchParams.get('upload_id') ?? '');
  const commandHeader = header(ex, 'x-goog-upload-command');
  const offsetHeader = header(ex, 'x-goog-upload-offset');
  const offset = /^\d+$/.test(offsetHeader) ? Number(offsetHeader) : undefined;
  const commands = new Set(commandHeader.split(',').map((command) => command.trim().toLowerCase()));
  if (!session) {
    await drain(ex.req);
    ex.record.upload = { command: commandHeader, offset, bytes: 0 };
    return sendError(ex, googleError(404, { message: 'No upload session with this upload_id (it never existed, was finalized or was cancelled).' }));
  }
  // Read everything the chunk sends, keeping no more than the declared size allows.
  const { bytes, overflow } = await readRawBody(ex.req, session.declaredSize - session.received);
  ex.record.upload = { command: commandHeader, offset, bytes: bytes.length };
  if (store.session(session.id) !== session) {
    return sendError(ex, googleError(404, { message: 'The upload session ended while this chunk was arriving.' }));
  }
  if (commands.has('cancel')) {
    store.endSession(session.id);
    return sendOk(ex, {}, { 'x-goog-upload-status': 'cancelled' });
  }
  if (commands.has('query')) {
    return sendOk(ex, {}, { 'x-goog-upload-status': 'active', 'x-goog-upload-size-received': String(session.received) });
  }
  if (!commands.has('upload') && !commands.has('finalize')) {
    return sendError(ex, invalid(`X-Goog-Upload-Command "${commandHeader}" is not one of upload, finalize, query, cancel.`));
  }
  // Checked after the body arrived and applied without a pause, so two chunks raced at the same offset
  // cannot both land: the second sees the first one's bytes counted.
  if (offset === undefined) return sendError(ex, invalid('X-Goog-Upload-Offset must give the byte offset of this chunk.'));
  if (offset !== session.received) {
    return sendError(ex, invalid(`X-Goog-Upload-Offset ${offset} does not match the ${session.received} bytes received so far.`));
  }
  if (overflow || session.received + bytes.length > session.declaredSize) {
    return sendError(ex, invalid(`The chunk goes past the ${session.declaredSize} bytes declared when the upload started.`));
  }
  session.chunks.push(bytes);
  session.received += bytes.length;
  if (!commands.has('finalize')) return sendOk(ex, {}, { 'x-goog-upload-status': 'active' });
  if (session.received !== session.declaredSize) {
    store.endSession(session.id);
    return sendError(ex, invalid(`The upload ended after ${session.received} of the ${session.declaredSize} bytes declared; nothing was stored.`));
  }
  const file = store.finalize(session);
  ex.record.fileName = `files/${file.id}`;
  sendOk(ex, { file: wireFile(file, apiVersion) }, { 'x-goog-upload-status': 'final' });
}

export function getFile(ex: Exchange, store: FileStore, id: string): void {
  ex.record.fileName = `files/${id}`;
  const found = store.getForClient(id);
  if ('missing' in found) return sendError(ex, fileNotFoundError(id));
  sendOk(ex, wireFile(found.file, ex.record.apiVersion));
}

// Pages like Google's list: an opaque nextPageToken while more files remain; an empty list is `{}`.
export function listFiles(ex: Exchange, store: FileStore): void {
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Number(ex.url.searchParams.get('pageSize')) || DEFAULT_PAGE_SIZE));
  const offset = Number(Buffer.from(ex.url.searchParams.get('pageToken') ?? '', 'base64url').toString()) || 0;
  const files = store.list();
  const page = files.slice(offset, offset + pageSize);
  const next = offset + pageSize;
  sendOk(ex, {
    ...(page.length > 0 ? { files: page.map((file) => wireFile(file, ex.record.apiVersion)) } : {}),
    ...(next < files.length ? { nextPageToken: Buffer.from(String(next)).toString('base64url') } : {}),
  });
}

export function deleteFile(ex: Exchange, store: FileStore, id: string): void {
  ex.record.fileName = `files/${id}`;
  if (!store.delete(id)) return sendError(ex, fileNotFoundError(id));
  sendOk(ex, {});
}
