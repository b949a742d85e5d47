import { audioSeconds, imageSize, pdfPageCount, type ImageSize } from './media-inspection.js';
import { essenceOf, modalityOf, type MediaModality } from './media-types.js';
import { countTextTokens } from './token-counting.js';

// What one media part costs and what the fake learned from its bytes, by Gemini's documented rules:
//   image: 258 when both sides are at most 384 px; otherwise 258 per tile, where the tile side is the shorter
//          side / 1.5 kept within 256..768 px (so 960x540 -> 3x2 = 6 tiles, and large images get 768x768 tiles);
//          an image whose size the header does not give (HEIC/HEIF) costs 258;
//   PDF:   258 per page;
//   audio: 32 per second, rounded up;
//   text/*: the bytes as UTF-8, counted like a text part.

export const TOKENS_PER_IMAGE_TILE = 258;
export const TOKENS_PER_PDF_PAGE = 258;
export const AUDIO_TOKENS_PER_SECOND = 32;
const SMALL_IMAGE_SIDE = 384;

export interface MediaFacts {
  mimeType: string;
  modality: MediaModality;
  tokens: number;
  image?: ImageSize | undefined;
  pages?: number | undefined;
  seconds?: number | undefined;
  characters?: number | undefined;
}

export function imageTokens(size: ImageSize | undefined): number {
  if (!size || (size.width <= SMALL_IMAGE_SIDE && size.height <= SMALL_IMAGE_SIDE)) return TOKENS_PER_IMAGE_TILE;
  const tile = Math.min(768, Math.max(256, Math.floor(Math.min(size.width, size.height) / 1.5)));
  return Math.ceil(size.width / tile) * Math.ceil(size.height / tile) * TOKENS_PER_IMAGE_TILE;
}

export const audioTokens = (seconds: number): number => Math.ceil(seconds * AUDIO_TOKENS_PER_SECOND);

// undefined when the MIME type is not one Gemini accepts.
export function inspectMedia(mimeType: string, bytes: Buffer): MediaFacts | undefined {
  const type = essenceOf(mimeType);
  const modality = modalityOf(type);
  switch (modality) {
    case undefined:
      return undefined;
    case 'IMAGE': {
      const image = imageSize(type, bytes);
      return { mimeType: type, modality, tokens: imageTokens(image), image };
    }
    case 'DOCUMENT': {
      const pages = pdfPageCount(bytes);
      return { mimeType: type, modality, tokens: pages * TOKENS_PER_PDF_PAGE, pages };
    }
    case 'AUDIO': {
      const seconds = audioSeconds(type, bytes);
      return { mimeType: type, modality, tokens: audioTokens(seconds), seconds };
    }
    case 'TEXT': {
      const text = bytes.toString('utf8');
      return { mimeType: type, modality, tokens: countTextTokens(text), characters: Array.from(text).length };
    }
  }
}
