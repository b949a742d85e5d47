import { stripMarkers } from './prompt-markers.js';
import { receivedFilesSentence, type DescribableFile } from './received-files.js';
import { lastUserText, userTurnCount } from './scripting.js';
import type { GenerateContentRequestBody } from './wire.types.js';

// The reply the fake gives when nothing is scripted: it quotes the last user message (markers removed) and
// counts the user turns, so a test can predict it exactly and can tell that the history arrived. It is long
// enough (over 150 characters) to be streamed as several chunks at the default 32 characters per chunk.
// A request with media parts gets receivedFilesSentence() of them first, then a space, then that same text.
export function defaultReplyText(request: Pick<GenerateContentRequestBody, 'contents'>, files: readonly DescribableFile[] = []): string {
  const said = stripMarkers(lastUserText(request.contents));
  const echo =
    `Fake Gemini reply to user turn ${userTurnCount(request.contents)}. You said: "${said}". ` +
    'Every word of this reply is derived from the request, so tests can predict it exactly.';
  return files.length > 0 ? `${receivedFilesSentence(files)} ${echo}` : echo;
}
