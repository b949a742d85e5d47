// The MIME types the fake accepts in inlineData / fileData parts, as Gemini documents them, and the modality each
// is billed under in promptTokensDetails. Video is left out: the fake cannot time it, and a type it refuses is
// better than a token count it invents.

export type MediaModality = 'TEXT' | 'IMAGE' | 'AUDIO' | 'DOCUMENT';

const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/heic', 'image/heif'];
// Gemini reads these as plain text and tokenizes them like a text part.
const TEXT_TYPES = [
  'text/plain',
  'text/html',
  'text/css',
  'text/csv',
  'text/xml',
  'text/rtf',
  'text/md',
  'text/markdown',
  'text/javascript',
  'text/x-python',
];
const AUDIO_TYPES = [
  'audio/wav',
  'audio/x-wav',
  'audio/wave',
  'audio/mp3',
  'audio/mpeg',
  'audio/aiff',
  'audio/aac',
  'audio/ogg',
  'audio/flac',
  'audio/m4a',
  'audio/opus',
  'audio/webm',
];

const MODALITY_BY_TYPE: ReadonlyMap<string, MediaModality> = new Map([
  ...IMAGE_TYPES.map((type) => [type, 'IMAGE'] as const),
  ...TEXT_TYPES.map((type) => [type, 'TEXT'] as const),
  ...AUDIO_TYPES.map((type) => [type, 'AUDIO'] as const),
  ['application/pdf', 'DOCUMENT'] as const,
]);

export const SUPPORTED_MEDIA_TYPES: readonly string[] = [...MODALITY_BY_TYPE.keys()];

// `Text/Plain; charset=utf-8` -> `text/plain`: parameters do not change what the model reads.
export const essenceOf = (mimeType: string): string => mimeType.split(';')[0]!.trim().toLowerCase();

export const modalityOf = (mimeType: string): MediaModality | undefined => MODALITY_BY_TYPE.get(essenceOf(mimeType));
