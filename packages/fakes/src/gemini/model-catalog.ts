// The models the fake knows: what `GET /{version}/models` lists and what generation checks thinking requests
// against. Ids are Gemini's as of late 2026 (stable, preview and the -latest aliases Google repoints).

export type ThinkingLevel = 'minimal' | 'low' | 'medium' | 'high';

export interface ThinkingSupport {
  // thinkingLevel values the model takes (Gemini 3); empty for budget-only models.
  levels: readonly ThinkingLevel[];
  // What the model does when the request names no level or budget.
  defaultLevel: ThinkingLevel;
  // The thinkingBudget range it takes, besides -1 (dynamic) and, where `canTurnOff`, 0.
  minBudget: number;
  maxBudget: number;
  // Whether thinkingBudget 0 switches thinking off (Pro models only work in thinking mode).
  canTurnOff: boolean;
}

export interface FakeModel {
  id: string;
  displayName: string;
  // The model an alias points at; a model that is no alias is its own base.
  baseModelId: string;
  version: string;
  description: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
  // Undefined: the model does not think, and a thinkingConfig that asks it to is refused.
  thinking: ThinkingSupport | undefined;
  temperature: number;
  maxTemperature: number;
  topP: number;
  topK: number;
}

// A models.get / models.list entry on the wire. Google leaves `thinking` out (rather than false) for models
// that do not think.
export interface WireModel {
  name: string;
  baseModelId: string;
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
  thinking?: true;
}

const GEMINI_3_LEVELS: readonly ThinkingLevel[] = ['minimal', 'low', 'medium', 'high'];

// The fake lets Flash models turn thinking off with budget 0 so that a "thinking off" setting can be tested;
// Pro refuses it, as Google's Pro models do.
const FLASH_THINKING: ThinkingSupport = { levels: GEMINI_3_LEVELS, defaultLevel: 'medium', minBudget: 1, maxBudget: 24_576, canTurnOff: true };
const FLASH_LITE_THINKING: ThinkingSupport = { ...FLASH_THINKING, defaultLevel: 'minimal', minBudget: 512 };
const PRO_THINKING: ThinkingSupport = { levels: ['low', 'medium', 'high'], defaultLevel: 'high', minBudget: 128, maxBudget: 32_768, canTurnOff: false };
const GEMINI_2_5_FLASH_THINKING: ThinkingSupport = { levels: [], defaultLevel: 'medium', minBudget: 1, maxBudget: 24_576, canTurnOff: true };

const GENERATION_METHODS = ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'];

function model(id: string, displayName: string, thinking: ThinkingSupport | undefined, extra: Partial<FakeModel> = {}): FakeModel {
  return {
    id,
    displayName,
    baseModelId: id,
    version: '001',
    description: `${displayName}, served by the local fake Gemini.`,
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    thinking,
    temperature: 1,
    maxTemperature: 2,
    topP: 0.95,
    topK: 64,
    ...extra,
  };
}

// An alias carries its target's limits and thinking under its own name, pointing at the target as its base.
const alias = (id: string, displayName: string, target: FakeModel): FakeModel => ({
  ...target,
  id,
  displayName,
  description: `${displayName}: currently ${target.displayName}, served by the local fake Gemini.`,
});

const FLASH_3_8 = model('gemini-3.8-flash', 'Gemini 3.8 Flash', FLASH_THINKING);
const FLASH_LITE_3_5 = model('gemini-3.5-flash-lite', 'Gemini 3.5 Flash-Lite', FLASH_LITE_THINKING);
const PRO_3_1 = model('gemini-3.1-pro-preview', 'Gemini 3.1 Pro Preview', PRO_THINKING);

export const DEFAULT_MODEL_CATALOG: readonly FakeModel[] = [
  FLASH_3_8,
  model('gemini-3.7-flash', 'Gemini 3.7 Flash', FLASH_THINKING),
  model('gemini-3.6-flash', 'Gemini 3.6 Flash', FLASH_THINKING),
  FLASH_LITE_3_5,
  model('gemini-3.1-flash-lite', 'Gemini 3.1 Flash-Lite', FLASH_LITE_THINKING),
  PRO_3_1,
  model('gemini-2.5-flash', 'Gemini 2.5 Flash', GEMINI_2_5_FLASH_THINKING),
  // A model that does not think at all, as Gemini 2.0 did.
  model('gemini-2.0-flash', 'Gemini 2.0 Flash', undefined, { outputTokenLimit: 8_192 }),
  alias('gemini-flash-latest', 'Gemini Flash Latest', FLASH_3_8),
  alias('gemini-flash-lite-latest', 'Gemini Flash-Lite Latest', FLASH_LITE_3_5),
  alias('gemini-pro-latest', 'Gemini Pro Latest', PRO_3_1),
];

// The ids of the default catalog, in listing order.
export const DEFAULT_MODELS: readonly string[] = DEFAULT_MODEL_CATALOG.map((m) => m.id);

// Ids arrive as "gemini-x" from the path, or as "models/gemini-x" from callers that pass resource names.
export const bareModelId = (model: string): string => model.replace(/^models\//, '');

// An id the default catalog does not describe: a thinking Flash-like model under that name.
export function genericModel(id: string): FakeModel {
  const displayName = id
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
  return model(id, displayName, FLASH_THINKING);
}

// A catalog from the `models` option: ids take their default entry (or a generic one), entries are used as given.
export function buildCatalog(models: readonly (string | FakeModel)[] | undefined): readonly FakeModel[] {
  if (models === undefined) return DEFAULT_MODEL_CATALOG;
  return models.map((entry) => (typeof entry === 'string' ? (DEFAULT_MODEL_CATALOG.find((m) => m.id === entry) ?? genericModel(entry)) : entry));
}

export const findModel = (catalog: readonly FakeModel[], id: string): FakeModel | undefined => catalog.find((m) => m.id === id);

export function modelResource(entry: FakeModel): WireModel {
  return {
    name: `models/${entry.id}`,
    baseModelId: entry.baseModelId,
    version: entry.version,
    displayName: entry.displayName,
    description: entry.description,
    inputTokenLimit: entry.inputTokenLimit,
    outputTokenLimit: entry.outputTokenLimit,
    supportedGenerationMethods: [...GENERATION_METHODS],
    temperature: entry.temperature,
    topP: entry.topP,
    topK: entry.topK,
    maxTemperature: entry.maxTemperature,
    ...(entry.thinking ? { thinking: true as const } : {}),
  };
}
