// What a model can do that Gemini's model list does not say, by model family. The one table for it: GET /models
// reads it, and so should anything that later checks a chatroom's settings against its model.
//
// - Thinking: Gemini's own `thinking` flag wins when the list carries it; this is the fallback. Gemini 2.5 and 3
//   Pro and Flash think (no Gemini 3 model can turn it off entirely); Flash-Lite supports thinking but does little
//   by default (minimal on 3, off on 2.5).
// - Grounding with Google Search: supported by the current text models (2.x and 3.x Flash, Flash-Lite and Pro);
//   the model list never says so.
// - Input: the same text models take text, images, audio, video and PDFs.
// - Switching thinking off (budget 0) works on Flash and Flash-Lite, never on Pro; levels exist from Gemini 3 on.
// Anything else (an id this table does not know, or a special-purpose model: image output, speech, embeddings,
// live audio) gets the conservative answer: text only, no thinking, no grounding.

export type InputModality = 'text' | 'image' | 'audio' | 'video' | 'pdf';

export interface ModelCapabilities {
  thinking: boolean;
  /** Thinking can be switched off (budget 0): not on Pro models, which only work thinking. */
  thinkingOff: boolean;
  /** Thinking is set by level (Gemini 3); otherwise by token budget only (2.5). */
  thinkingLevels: boolean;
  grounding: boolean;
  inputModalities: InputModality[];
}

const MULTIMODAL: InputModality[] = ['text', 'image', 'audio', 'video', 'pdf'];
const UNKNOWN: ModelCapabilities = { thinking: false, thinkingOff: false, thinkingLevels: false, grounding: false, inputModalities: ['text'] };

// gemini-<version>-<variant>[-suffix], e.g. gemini-3.8-flash, gemini-3.5-flash-lite, gemini-3.1-pro-preview.
const VERSIONED = /^gemini-(\d+(?:\.\d+)?)-(flash-lite|flash|pro)(?:-(.+))?$/;
// Google's moving aliases point at a current model of the variant.
const ALIAS = /^gemini-(flash-lite|flash|pro)-latest$/;
// Suffixes of models that are not general text models.
const SPECIAL_PURPOSE = /(?:^|-)(?:image|tts|embedding|live|native-audio|audio)(?:-|$)/;

export function knownCapabilities(modelId: string): ModelCapabilities {
  const alias = ALIAS.exec(modelId);
  if (alias) return { thinking: true, thinkingOff: alias[1] !== 'pro', thinkingLevels: true, grounding: true, inputModalities: MULTIMODAL };
  const match = VERSIONED.exec(modelId);
  if (!match || SPECIAL_PURPOSE.test(match[3] ?? '')) return UNKNOWN;
  const version = Number(match[1]);
  return {
    thinking: version >= 2.5,
    thinkingOff: version >= 2.5 && match[2] !== 'pro',
    thinkingLevels: version >= 3,
    grounding: version >= 2,
    inputModalities: version >= 2 ? MULTIMODAL : ['text'],
  };
}

/** "gemini-3.1-pro-preview" → "Gemini 3.1 Pro Preview": a readable name when Gemini's is not at hand. */
export function displayNameOf(modelId: string): string {
  return modelId
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}
