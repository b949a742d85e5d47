import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { fileTypeFromBuffer } from 'file-type';
import { AppError, badRequest } from '@gemini-chat/shared';

// What an upload is, decided from its bytes: the client's file name and part Content-Type are only checked
// against what the bytes say, never believed.

/** Bytes file-type needs to recognise every signature it knows. */
export const SNIFF_BYTES = 4100;
export const NAME_MAX_BYTES = 255;

/** The binary types accepted, as detected from their signature. */
const BINARY_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/webp',
  'image/heic',
  'image/heif',
  'application/pdf',
  'audio/mpeg',
  'audio/wav',
  'audio/ogg',
  'audio/flac',
  'audio/aac',
]);
export const TEXT_TYPES = new Set(['text/plain', 'text/markdown', 'text/csv']);

/** The type a file name's extension claims (undefined: it claims nothing we know). */
const EXTENSION_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.jpe': 'image/jpeg',
  '.webp': 'image/webp',
  '.heic': 'image/heic',
  '.heif': 'image/heif',
  '.pdf': 'application/pdf',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.oga': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.flac': 'audio/flac',
  '.aac': 'audio/aac',
  '.txt': 'text/plain',
  '.text': 'text/plain',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.csv': 'text/csv',
  '.gif': 'image/gif',
  '.exe': 'application/x-msdownload',
  '.zip': 'application/zip',
};

/** Other names clients use for the same types; HEIC and HEIF are one container, told apart by brand only. */
const ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/heif': 'image/heic',
  'image/heic-sequence': 'image/heic',
  'image/heif-sequence': 'image/heic',
  'audio/mp3': 'audio/mpeg',
  'audio/mpeg3': 'audio/mpeg',
  'audio/x-mpeg': 'audio/mpeg',
  'audio/x-wav': 'audio/wav',
  'audio/wave': 'audio/wav',
  'audio/vnd.wave': 'audio/wav',
  'audio/x-flac': 'audio/flac',
  'audio/x-aac': 'audio/aac',
  'audio/aacp': 'audio/aac',
  'audio/opus': 'audio/ogg',
  'application/ogg': 'audio/ogg',
  'application/x-pdf': 'application/pdf',
  'text/x-markdown': 'text/markdown',
  'application/csv': 'text/csv',
  'text/x-csv': 'text/csv',
};

const essence = (type: string): string => type.split(';')[0]!.trim().toLowerCase();
const canonical = (type: string): string => {
  const base = essence(type);
  if (TEXT_TYPES.has(ALIASES[base] ?? base)) return 'text';
  return ALIASES[base] ?? base;
};

const unsupported = () =>
  new AppError(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    'This kind of file is not accepted: send an image (PNG, JPEG, WebP, HEIC/HEIF), a PDF, UTF-8 text (plain, Markdown, CSV) or audio (MP3, WAV, OGG, FLAC, AAC).',
  );
const mismatch = (what: string, claimed: string, detected: string) =>
  new AppError(415, 'FILE_TYPE_MISMATCH', `The file's ${what} says ${claimed} but its bytes are ${detected}.`);

export type FileKind = 'binary' | 'pdf' | 'text';

/**
 * The type of an upload from its first bytes (SNIFF_BYTES of them, or all of a smaller file), checked against the
 * name's extension and the declared part type (application/octet-stream or none claims nothing). Text has no
 * signature: it is accepted here provisionally and proven UTF-8 while it streams.
 */
export async function classify(head: Buffer, name: string, declared: string | undefined): Promise<{ mimeType: string; kind: FileKind }> {
  const found = await fileTypeFromBuffer(head);
  let mimeType: string;
  if (found) {
    const detected = essence(found.mime);
    if (!BINARY_TYPES.has(detected)) throw unsupported();
    mimeType = detected;
  } else {
    const byExtension = EXTENSION_TYPES[extname(name).toLowerCase()];
    mimeType = byExtension && TEXT_TYPES.has(byExtension) ? byExtension : 'text/plain';
  }
  const claims: Array<[string, string]> = [];
  const extensionType = EXTENSION_TYPES[extname(name).toLowerCase()];
  if (extensionType) claims.push(['name', extensionType]);
  // The multipart parser reports a part sent without Content-Type as text/plain (RFC 7578's default), so text/plain
  // claims as little as application/octet-stream: it cannot be told from no claim at all.
  if (declared && !['application/octet-stream', 'text/plain'].includes(essence(declared))) claims.push(['Content-Type', essence(declared)]);
  for (const [what, claimed] of claims) {
    if (canonical(claimed) === canonical(mimeType)) continue;
    // Bytes without a signature that claim a type we do not take (text/html, an .exe) are simply not accepted;
    // claiming one we do take (a .png that is not a PNG) is a mismatch.
    if (!found && !BINARY_TYPES.has(canonical(claimed)) && !BINARY_TYPES.has(claimed)) throw unsupported();
    throw mismatch(what, claimed, found ? mimeType : 'text');
  }
  return { mimeType, kind: mimeType === 'application/pdf' ? 'pdf' : found ? 'binary' : 'text' };
}

/**
 * What the bytes of an upload add up to, computed as they stream: size (and the cap), sha256, for text that it
 * is UTF-8 without NUL, for a PDF its page count. Every check throws as soon as it fails, before the end.
 */
export function createInspector(kind: FileKind, limits: { maxBytes: number; pdfMaxPages: number }) {
  const hash = createHash('sha256');
  const decoder = kind === 'text' ? new TextDecoder('utf-8', { fatal: true }) : undefined;
  const pages = kind === 'pdf' ? createPdfPageCounter() : undefined;
  let size = 0;
  const notText = () => new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'A file without a known signature is accepted only as UTF-8 text without NUL bytes.');
  const tooManyPages = (n: number) =>
    new AppError(422, 'PDF_TOO_MANY_PAGES', `The PDF has more than ${limits.pdfMaxPages} pages (at least ${n}).`);

  return {
    update(chunk: Buffer): void {
      size += chunk.length;
      if (size > limits.maxBytes) throw fileTooLarge(limits.maxBytes);
      hash.update(chunk);
      if (decoder) {
        if (chunk.includes(0)) throw notText();
        try {
          decoder.decode(chunk, { stream: true });
        } catch {
          throw notText();
        }
      }
      if (pages) {
        const n = pages.update(chunk);
        if (n > limits.pdfMaxPages) throw tooManyPages(n);
      }
    },
    finish(): { sizeBytes: number; sha256: string; pageCount: number | null } {
      if (size === 0) throw emptyFile();
      if (decoder) {
        try {
          decoder.decode();
        } catch {
          throw notText(); // ends inside a character
        }
      }
      const pageCount = pages ? pages.total() || null : null;
      if (pageCount !== null && pageCount > limits.pdfMaxPages) throw tooManyPages(pageCount);
      return { sizeBytes: size, sha256: hash.digest('hex'), pageCount };
    },
  };
}

export const fileTooLarge = (maxBytes: number) => new AppError(413, 'FILE_TOO_LARGE', `Files may be at most ${maxBytes} bytes.`);
export const emptyFile = () => badRequest('EMPTY_FILE', 'The file is empty.');

/**
 * Counts a PDF's pages as it streams: its page objects (`/Type /Page`), or, where those are hidden in compressed
 * object streams, the largest `/Count` of a page tree seen. Chunks are read as latin1 with an overlap, so a token
 * split between two chunks is still seen (and one inside the overlap is not counted twice).
 */
function createPdfPageCounter() {
  const OVERLAP = 64;
  const PAGE = /\/Type\s*\/Page(?![A-Za-z])/g;
  const COUNT = /\/Count\s+(\d{1,9})/g;
  let tail = '';
  let pageObjects = 0;
  let largestCount = 0;
  return {
    update(chunk: Buffer): number {
      const text = tail + chunk.toString('latin1');
      for (const match of text.matchAll(PAGE)) {
        // A match wholly inside the overlap was counted with the previous chunk.
        if (match.index + match[0].length > tail.length) pageObjects++;
      }
      for (const match of text.matchAll(COUNT)) largestCount = Math.max(largestCount, Number(match[1]));
      tail = text.slice(-OVERLAP);
      return Math.max(pageObjects, largestCount);
    },
    total: () => Math.max(pageObjects, largestCount),
  };
}

/**
 * A file name safe to show and to put in Content-Disposition: the last path segment only, Unicode-normalised,
 * without control or bidirectional-override characters, at most NAME_MAX_BYTES of UTF-8 (the extension kept),
 * "file" when nothing is left. It is never used as a path.
 */
export function sanitizeFileName(raw: string | undefined): string {
  let name = (raw ?? '').normalize('NFC');
  name = name.split(/[/\\]/).pop() ?? '';
  // C0/C1 controls (NUL included) and the characters that reorder text (which can disguise "exe.png").
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  name = name.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  if (name === '.' || name === '..') name = '';
  if (Buffer.byteLength(name) > NAME_MAX_BYTES) {
    const ext = extname(name);
    const keep = ext.length > 0 && Buffer.byteLength(ext) <= 16 ? ext : '';
    name = truncateUtf8(name.slice(0, name.length - keep.length), NAME_MAX_BYTES - Buffer.byteLength(keep)).trimEnd() + keep;
  }
  return name || 'file';
}

function truncateUtf8(text: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  return out;
}
