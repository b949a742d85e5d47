import { createHash } from 'node:crypto';
import { fileNotFoundError, googleError } from './gemini-errors.js';
import { GOOGLE_FILES_ORIGIN, type FileStore } from './file-store.js';
import { inspectMedia, type MediaFacts } from './media-tokens.js';
import type { GoogleRpcErrorBody, WireContent, WirePart } from './wire.types.js';

// The media parts of a request (`inlineData` / `inline_data` with base64 bytes, `fileData` / `file_data` naming an
// uploaded file), checked as Gemini checks them and described so that a test can prove the model saw them.
//
// The default reply of a request with media starts with one sentence naming every file, in request order
// (turn, then part):
//
//   I received 2 files: image/png 64x64 (1234 bytes, sha256 0123456789ab), application/pdf 3 pages (5678 bytes, sha256 ba9876543210).
//
// Each file is `<mime>[ <detail>] (<size> bytes, sha256 <first 12 hex digits of the bytes' SHA-256>)`, where the
// detail is `<w>x<h>` for an image whose header gives its size, `<n> page(s)` for a PDF, `<s> s` for audio
// (seconds, at most two decimals) and `<n> characters` for text. For fileData the bytes are the uploaded ones.
// describeReceivedFile() and receivedFilesSentence() build exactly these strings.

export const SHA256_PREFIX_CHARS = 12;

export interface ReceivedFile extends MediaFacts {
  source: 'inline' | 'fileData';
  sizeBytes: number;
  // Hex SHA-256 of the bytes.
  sha256: string;
  // Index into `contents`, and of the part within that content.
  turn: number;
  part: number;
  // fileData only: `files/<id>` and the uri as sent.
  fileName?: string | undefined;
  fileUri?: string | undefined;
}

export type DescribableFile = Pick<ReceivedFile, 'mimeType' | 'sizeBytes' | 'sha256' | 'image' | 'pages' | 'seconds' | 'characters'>;

export function describeReceivedFile(file: DescribableFile): string {
  let detail = '';
  if (file.image) detail = ` ${file.image.width}x${file.image.height}`;
  else if (file.pages !== undefined) detail = ` ${file.pages} ${file.pages === 1 ? 'page' : 'pages'}`;
  else if (file.seconds !== undefined) detail = ` ${Number(file.seconds.toFixed(2))} s`;
  else if (file.characters !== undefined) detail = ` ${file.characters} characters`;
  return `${file.mimeType}${detail} (${file.sizeBytes} bytes, sha256 ${file.sha256.slice(0, SHA256_PREFIX_CHARS)})`;
}

export function receivedFilesSentence(files: readonly DescribableFile[]): string {
  const count = `${files.length} ${files.length === 1 ? 'file' : 'files'}`;
  return `I received ${count}: ${files.map(describeReceivedFile).join(', ')}.`;
}

export type MediaCollection = { files: ReceivedFile[] } | { error: GoogleRpcErrorBody };

// Proto3 JSON bytes: standard or URL-safe base64, padded or not. Node's decoder ignores what it does not
// understand, so the alphabet and the length are checked first.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function decodeBase64(data: string): Buffer | undefined {
  if (!BASE64.test(data)) return undefined;
  const unpadded = data.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  if (data.length !== unpadded.length && data.length % 4 !== 0) return undefined;
  return Buffer.from(unpadded, 'base64');
}

const sha256Hex = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

const badRequest = (message: string): { error: GoogleRpcErrorBody } => ({ error: googleError(400, { message }) });

// `https://generativelanguage.googleapis.com/v1beta/files/abc`, or the bare name `files/abc`. Public https URLs
// are something Gemini can fetch and the fake cannot, so it refuses them rather than invent their contents.
function fileIdOf(uri: string): string | undefined {
  const bare = /^files\/([a-z0-9-]+)$/.exec(uri);
  if (bare) return bare[1];
  if (!uri.startsWith(`${GOOGLE_FILES_ORIGIN}/`)) return undefined;
  return /^\/(?:v1|v1beta)\/files\/([a-z0-9-]+)$/.exec(new URL(uri).pathname)?.[1];
}

interface MediaInput {
  source: ReceivedFile['source'];
  mimeType: string;
  bytes: Buffer;
  turn: number;
  part: number;
  fileName?: string;
  fileUri?: string;
}

function received(input: MediaInput): ReceivedFile | { error: GoogleRpcErrorBody } {
  const facts = inspectMedia(input.mimeType, input.bytes);
  if (!facts) return badRequest(`Unsupported MIME type: ${input.mimeType}`);
  if (facts.modality === 'DOCUMENT' && facts.pages === 0) return badRequest('The document has no pages.');
  return {
    ...facts,
    source: input.source,
    sizeBytes: input.bytes.length,
    sha256: sha256Hex(input.bytes),
    turn: input.turn,
    part: input.part,
    ...(input.fileName !== undefined ? { fileName: input.fileName, fileUri: input.fileUri } : {}),
  };
}

function inlineFile(blob: Record<string, unknown>, turn: number, part: number, where: string): ReceivedFile | { error: GoogleRpcErrorBody } {
  const mimeType = blob.mimeType ?? blob.mime_type;
  const data = blob.data;
  if (typeof mimeType !== 'string' || mimeType.trim() === '') {
    return badRequest(`* GenerateContentRequest.${where}.inline_data.mime_type: mime_type is not specified\n`);
  }
  if (typeof data !== 'string' || data === '') return badRequest(`* GenerateContentRequest.${where}.inline_data.data: data is not specified\n`);
  const bytes = decodeBase64(data);
  if (!bytes) {
    const shown = data.length > 20 ? `${data.slice(0, 20)}…` : data;
    return badRequest(`Invalid value at '${where}.inline_data.data' (TYPE_BYTES), Base64 decoding failed for "${shown}"`);
  }
  return received({ source: 'inline', mimeType, bytes, turn, part });
}

function uploadedFile(
  ref: Record<string, unknown>,
  store: FileStore,
  turn: number,
  part: number,
  where: string,
): ReceivedFile | { error: GoogleRpcErrorBody } {
  const uri = ref.fileUri ?? ref.file_uri;
  const declared = ref.mimeType ?? ref.mime_type;
  if (typeof uri !== 'string' || uri === '') return badRequest(`* GenerateContentRequest.${where}.file_data.file_uri: file_uri is not specified\n`);
  const id = fileIdOf(uri);
  if (id === undefined) return badRequest(`Invalid or unsupported file uri: ${uri}`);
  const found = store.lookup(id);
  if ('missing' in found) return { error: fileNotFoundError(id) };
  if (found.file.state !== 'ACTIVE') {
    return {
      error: googleError(400, {
        status: 'FAILED_PRECONDITION',
        message: `The File ${id} is not in an ACTIVE state and usage is not allowed.`,
      }),
    };
  }
  const mimeType = typeof declared === 'string' && declared.trim() !== '' ? declared : found.file.mimeType;
  return received({ source: 'fileData', mimeType, bytes: found.file.bytes, turn, part, fileName: `files/${id}`, fileUri: uri });
}

// Every media part of `contents`, or the first error Gemini would answer.
export function collectMedia(contents: readonly WireContent[], store: FileStore): MediaCollection {
  const files: ReceivedFile[] = [];
  for (const [turn, content] of contents.entries()) {
    const parts: readonly WirePart[] = Array.isArray(content?.parts) ? content.parts : [];
    for (const [index, part] of parts.entries()) {
      const where = `contents[${turn}].parts[${index}]`;
      const inline = asRecord(part?.inlineData ?? part?.inline_data);
      const ref = asRecord(part?.fileData ?? part?.file_data);
      const result = inline ? inlineFile(inline, turn, index, where) : ref ? uploadedFile(ref, store, turn, index, where) : undefined;
      if (result === undefined) continue;
      if ('error' in result) return result;
      files.push(result);
    }
  }
  return { files };
}
