import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { samplePdf, samplePng, sampleWav } from '@gemini-chat/fakes';

// Uploads as a client sends them, and small real files of every kind the API accepts (and some it refuses).

export interface Part {
  name: string;
  /** Omitted: a plain field. */
  filename?: string;
  type?: string;
  data: Buffer | string;
  /** Replaces the whole Content-Disposition value (to send names a well-behaved client would not). */
  disposition?: string;
}

/** A multipart/form-data body and its Content-Type. */
export function multipart(parts: Part[], boundary = `----test${randomBytes(8).toString('hex')}`): { payload: Buffer; headers: Record<string, string> } {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition =
      part.disposition ?? `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    let head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n`;
    if (part.type) head += `Content-Type: ${part.type}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`), Buffer.isBuffer(part.data) ? part.data : Buffer.from(part.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** One file part named `file`. */
export function fileUpload(data: Buffer | string, filename = 'file.bin', type?: string) {
  return multipart([{ name: 'file', filename, data, ...(type ? { type } : {}) }]);
}

/** Every file under a directory, temporary ones included (relative paths). */
export function filesUnder(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

// The media samples are the fake Gemini's, so that what a test uploads is what the fake knows how to read.
/** A real PNG (8-bit greyscale, width × height). */
export const pngFixture = (width = 2, height = 2): Buffer => samplePng(width, height);
/** A valid PDF with `pages` pages (a real cross-reference table). */
export const pdfFixture = (pages = 1): Buffer => samplePdf(pages);
/** A WAV file: 16-bit mono PCM, a tenth of a second. */
export const wavFixture = (): Buffer => sampleWav(0.1);

/** The start of a 64-bit Linux executable (ELF), padded. */
export function elfFixture(): Buffer {
  const elf = Buffer.alloc(256);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  elf.writeUInt16LE(2, 16); // executable
  elf.writeUInt16LE(0x3e, 18); // x86-64
  return elf;
}
