// What the fake reads out of media bytes to count their tokens and describe them: image sizes from the file
// headers, PDF page counts, audio durations. No decoding of pixels or samples: headers only, so it stays fast
// and needs no dependency. Anything a header does not say is reported as unknown, never guessed silently.

export interface ImageSize {
  width: number;
  height: number;
}

// PNG: the 8-byte signature, then the IHDR chunk whose data starts with width and height (big-endian).
function pngSize(bytes: Buffer): ImageSize | undefined {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(signature) || bytes.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

// JPEG: walk the marker segments to the first start-of-frame (SOF0..SOF15 except DHT C4, JPG C8, DAC CC), whose
// payload holds precision (1 byte), height and width (2 bytes each).
function jpegSize(bytes: Buffer): ImageSize | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1] ?? 0;
    // Fill bytes and markers without a length.
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    const length = bytes.readUInt16BE(offset + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (offset + 9 > bytes.length) return undefined;
      return { height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
    }
    if (marker === 0xd9 || marker === 0xda) return undefined;
    offset += 2 + length;
  }
  return undefined;
}

// WebP: a RIFF container whose first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended).
function webpSize(bytes: Buffer): ImageSize | undefined {
  if (bytes.length < 30 || bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WEBP') return undefined;
  const chunk = bytes.toString('latin1', 12, 16);
  if (chunk === 'VP8 ') {
    // Key frame start code 9d 01 2a, then 14-bit width and height.
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) return undefined;
    return { width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    if (bytes[20] !== 0x2f) return undefined;
    const bits = bytes.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    return { width: bytes.readUIntLE(24, 3) + 1, height: bytes.readUIntLE(27, 3) + 1 };
  }
  return undefined;
}

// Width and height from the header, or undefined when the format is not read here (HEIC/HEIF) or the header is
// not what its MIME type claims.
export function imageSize(mimeType: string, bytes: Buffer): ImageSize | undefined {
  switch (mimeType) {
    case 'image/png':
      return pngSize(bytes);
    case 'image/jpeg':
      return jpegSize(bytes);
    case 'image/webp':
      return webpSize(bytes);
    default:
      return undefined;
  }
}

// Pages of a PDF: its page objects (`/Type /Page`, not the `/Type /Pages` tree nodes). Page objects packed in
// compressed object streams are invisible to this scan; then the page tree root's `/Count` is used instead.
export function pdfPageCount(bytes: Buffer): number {
  const text = bytes.toString('latin1');
  if (!text.startsWith('%PDF-')) return 0;
  const pages = text.match(/\/Type\s*\/Page(?![A-Za-z0-9])/g)?.length ?? 0;
  if (pages > 0) return pages;
  const counts = [...text.matchAll(/\/Type\s*\/Pages\b[^>]*?\/Count\s+(\d+)/g)].map((m) => Number(m[1]));
  return counts.length > 0 ? Math.max(...counts) : 0;
}

// Assumed bitrate for compressed audio whose header this file does not read: 128 kbit/s, i.e. 16,000 bytes a
// second. A rough figure on purpose; only WAV, FLAC and constant-bitrate MP3 durations are exact here.
export const ASSUMED_AUDIO_BYTES_PER_SECOND = 16_000;

// WAV: RIFF/WAVE, the fmt chunk's byte rate and the data chunk's size give the exact duration.
function wavSeconds(bytes: Buffer): number | undefined {
  if (bytes.length < 12 || bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let byteRate: number | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('latin1', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (id === 'fmt ' && offset + 16 <= bytes.length) byteRate = bytes.readUInt32LE(offset + 16);
    if (id === 'data') {
      if (!byteRate) return undefined;
      // A data chunk that claims more than the file holds (a streamed WAV) counts what is there.
      return Math.min(size, bytes.length - offset - 8) / byteRate;
    }
    offset += 8 + size + (size % 2);
  }
  return undefined;
}

// FLAC: the STREAMINFO block carries the sample rate (20 bits) and the total sample count (36 bits).
function flacSeconds(bytes: Buffer): number | undefined {
  if (bytes.length < 42 || bytes.toString('latin1', 0, 4) !== 'fLaC') return undefined;
  const info = 8;
  const sampleRate = (bytes.readUInt32BE(info + 10) >>> 12) & 0xfffff;
  const totalSamples = (bytes[info + 13]! & 0x0f) * 2 ** 32 + bytes.readUInt32BE(info + 14);
  return sampleRate > 0 && totalSamples > 0 ? totalSamples / sampleRate : undefined;
}

const MP3_BITRATES_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];

// MP3: skip an ID3v2 tag, read the first MPEG-1 Layer III frame's bitrate and assume it holds throughout
// (exact for constant bitrate, rough for variable).
function mp3Seconds(bytes: Buffer): number | undefined {
  let offset = 0;
  if (bytes.toString('latin1', 0, 3) === 'ID3' && bytes.length >= 10) {
    offset = 10 + (((bytes[6]! & 0x7f) << 21) | ((bytes[7]! & 0x7f) << 14) | ((bytes[8]! & 0x7f) << 7) | (bytes[9]! & 0x7f));
  }
  for (; offset + 4 <= bytes.length; offset++) {
    if (bytes[offset] !== 0xff || (bytes[offset + 1]! & 0xfe) !== 0xfa) continue;
    const kbps = MP3_BITRATES_KBPS[bytes[offset + 2]! >>> 4];
    if (!kbps) continue;
    return ((bytes.length - offset) * 8) / (kbps * 1000);
  }
  return undefined;
}

// Seconds of audio: exact for WAV and FLAC, from the first frame's bitrate for MP3, else from the byte size at
// ASSUMED_AUDIO_BYTES_PER_SECOND.
export function audioSeconds(mimeType: string, bytes: Buffer): number {
  const exact =
    mimeType === 'audio/wav' || mimeType === 'audio/x-wav' || mimeType === 'audio/wave'
      ? wavSeconds(bytes)
      : mimeType === 'audio/flac'
        ? flacSeconds(bytes)
        : mimeType === 'audio/mp3' || mimeType === 'audio/mpeg'
          ? mp3Seconds(bytes)
          : undefined;
  return exact ?? bytes.length / ASSUMED_AUDIO_BYTES_PER_SECOND;
}
