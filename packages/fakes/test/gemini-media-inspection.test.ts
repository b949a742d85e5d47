// The header readers behind the fake's media token counts, on hand-built headers of each format.
import { describe, expect, it } from 'vitest';
import { ASSUMED_AUDIO_BYTES_PER_SECOND, audioSeconds, imageSize, imageTokens, pdfPageCount, samplePdf, samplePng, sampleWav } from '../src/gemini/index.js';

function jpegHeader(width: number, height: number): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, ...Buffer.from('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const sof = Buffer.alloc(19);
  sof.set([0xff, 0xc2, 0x00, 0x11, 0x08]); // progressive SOF2, length 17, precision 8
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, Buffer.from([0xff, 0xc4, 0x00, 0x03, 0x00]), sof]);
}

function webp(chunk: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(20);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(12 + payload.length, 4);
  head.write('WEBP', 8, 'latin1');
  head.write(chunk, 12, 'latin1');
  head.writeUInt32LE(payload.length, 16);
  return Buffer.concat([head, payload, Buffer.alloc(16)]);
}

describe('image sizes', () => {
  it('reads PNG, JPEG (skipping non-frame markers) and the three WebP flavours', () => {
    expect(imageSize('image/png', samplePng(300, 200))).toEqual({ width: 300, height: 200 });
    expect(imageSize('image/jpeg', jpegHeader(1024, 768))).toEqual({ width: 1024, height: 768 });

    const lossy = Buffer.alloc(10);
    lossy.set([0x9d, 0x01, 0x2a], 3);
    lossy.writeUInt16LE(640, 6);
    lossy.writeUInt16LE(480, 8);
    expect(imageSize('image/webp', webp('VP8 ', lossy))).toEqual({ width: 640, height: 480 });

    const lossless = Buffer.alloc(5);
    lossless[0] = 0x2f;
    lossless.writeUInt32LE((800 - 1) | ((600 - 1) << 14), 1);
    expect(imageSize('image/webp', webp('VP8L', lossless))).toEqual({ width: 800, height: 600 });

    const extended = Buffer.alloc(10);
    extended.writeUIntLE(4000 - 1, 4, 3);
    extended.writeUIntLE(3000 - 1, 7, 3);
    expect(imageSize('image/webp', webp('VP8X', extended))).toEqual({ width: 4000, height: 3000 });
  });

  it('knows when it does not know: HEIC, and bytes that are not what the type says', () => {
    expect(imageSize('image/heic', Buffer.alloc(100))).toBeUndefined();
    expect(imageSize('image/png', jpegHeader(10, 10))).toBeUndefined();
    expect(imageSize('image/jpeg', Buffer.from('not a jpeg'))).toBeUndefined();
    expect(imageTokens(undefined)).toBe(258);
  });
});

describe('PDF pages', () => {
  it('counts page objects, not the page tree', () => {
    expect(pdfPageCount(samplePdf(1))).toBe(1);
    expect(pdfPageCount(samplePdf(12))).toBe(12);
  });

  it('falls back to the page tree count when page objects are compressed away', () => {
    const packed = Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Pages /Kids [5 0 R 6 0 R] /Count 7 >>\nendobj\n2 0 obj\n<< /Type /ObjStm /N 7 >>\n%%EOF\n');
    expect(pdfPageCount(packed)).toBe(7);
    expect(pdfPageCount(Buffer.from('plain text'))).toBe(0);
  });
});

describe('audio durations', () => {
  it('is exact for WAV at any sample rate', () => {
    expect(audioSeconds('audio/wav', sampleWav(3, 16000))).toBe(3);
    expect(audioSeconds('audio/x-wav', sampleWav(0.25))).toBe(0.25);
  });

  it('reads FLAC STREAMINFO', () => {
    const flac = Buffer.alloc(42);
    flac.write('fLaC', 0, 'latin1');
    flac.set([0x00, 0x00, 0x00, 0x22], 4); // STREAMINFO, 34 bytes
    // sample rate 44100 (20 bits), 2 channels, 16 bits, total samples 441000 (36 bits)
    const info = 8;
    const word = (44100 << 12) | (1 << 9) | (15 << 4) | 0;
    flac.writeUInt32BE(word >>> 0, info + 10);
    flac.writeUInt32BE(441000, info + 14);
    expect(audioSeconds('audio/flac', flac)).toBe(10);
  });

  it('takes an MP3 frame bitrate as constant, after an ID3 tag', () => {
    const id3 = Buffer.from([...Buffer.from('ID3'), 3, 0, 0, 0, 0, 0, 10, ...Buffer.alloc(10)]);
    const frames = Buffer.alloc(24_000);
    frames.set([0xff, 0xfb, 0x50, 0x00]); // MPEG-1 Layer III, 64 kbit/s
    expect(audioSeconds('audio/mpeg', Buffer.concat([id3, frames]))).toBe(3);
  });

  it('estimates other audio from its size at the assumed bitrate', () => {
    expect(audioSeconds('audio/ogg', Buffer.alloc(ASSUMED_AUDIO_BYTES_PER_SECOND * 5))).toBe(5);
    expect(audioSeconds('audio/wav', Buffer.alloc(32_000))).toBe(2);
  });
});
