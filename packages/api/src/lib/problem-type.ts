import type { ErrorCode } from '@gemini-chat/shared';

/** A problem document's `type`: a URN per code (nothing to dereference, but stable and unique). */
export const problemTypeOf = (code: ErrorCode): string => `urn:gemini-chat:problem:${code.toLowerCase().replace(/_/g, '-')}`;
