// What `GET /{version}/models` lists: Gemini model ids as of late 2026 (stable, preview and -latest alias); the fake
// serves any id unless `rejectUnknownModels` is set, because deployments keep the model id in config.

export const DEFAULT_MODELS: readonly string[] = [
  'gemini-3.8-flash',
  'gemini-3.7-flash',
  'gemini-3.6-flash',
  'gemini-3.5-flash-lite',
  'gemini-3.1-pro-preview',
  'gemini-2.5-flash',
  'gemini-flash-latest',
];

export interface WireModel {
  name: string;
  version: string;
  displayName: string;
  description: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
  supportedGenerationMethods: string[];
  temperature: number;
  topP: number;
  topK: number;
  maxTemperature: number;
  thinking: boolean;
}

// Ids arrive as "gemini-x" from the path, or as "models/gemini-x" from callers that pass resource names.
export const bareModelId = (model: string): string => model.replace(/^models\//, '');

export function modelResource(id: string): WireModel {
  const displayName = id
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
  return {
    name: `models/${id}`,
    version: '001',
    displayName,
    description: `${displayName}, served by the local fake Gemini.`,
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    supportedGenerationMethods: ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'],
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
    thinking: true,
  };
}
