import { AppError, type Config, type ReplySettings, type Tier } from '@gemini-chat/shared';
import { knownCapabilities } from './model-families.js';

// Which models a caller may name, and what a reply is generated with. Checked when a chatroom is given a model
// and again at every send: the configured list and the caller's tier may both have changed since.

type Models = Pick<Config['gemini'], 'models' | 'defaultModel'>;

export const modelUnknown = (id: string, field: string) =>
  new AppError(400, 'MODEL_UNKNOWN', `There is no model ${JSON.stringify(id)}; GET /models lists the models you may use.`, {
    errors: [{ in: 'body', field, message: 'is not a model of GET /models' }],
  });
export const modelNotAllowed = (id: string, tier: Tier) =>
  new AppError(403, 'MODEL_NOT_ALLOWED', `The ${tier} tier may not use ${id}; GET /models lists the models you may use.`);

/** Throws unless `id` is configured and open to `tier`. */
export function checkModel(models: Models, tier: Tier, id: string, field = 'model'): void {
  const model = models.models.find((m) => m.id === id);
  if (!model) throw modelUnknown(id, field);
  if (!model.tiers.includes(tier)) throw modelNotAllowed(id, tier);
}

// Gemini 2.5 models take budgets only; `low` and `high` become these budgets there.
const LEVEL_BUDGETS = { low: 1024, high: 8192 } as const;

/**
 * The settings a reply of `modelId` is generated with: the chatroom's, each field an override gives replacing
 * it, less what the model cannot do (thinking and thoughts on a model that does not think, search on one that
 * cannot ground), with `off` left out on a model that cannot stop thinking (Pro: it thinks at its default) and
 * levels turned into budgets on a model that takes budgets only. These are recorded on the reply, and the worker
 * maps them to Gemini's request as they are.
 */
export function resolveSettings(modelId: string, room: ReplySettings, overrides: ReplySettings | undefined): ReplySettings {
  const settings: ReplySettings = { ...room, ...overrides };
  const can = knownCapabilities(modelId);
  if (!can.thinking) {
    delete settings.thinking;
    delete settings.showThoughts;
  } else if (settings.thinking === 'off' || settings.thinking === 0) {
    if (!can.thinkingOff) delete settings.thinking;
    else settings.thinking = 'off';
  } else if ((settings.thinking === 'low' || settings.thinking === 'high') && !can.thinkingLevels) {
    settings.thinking = LEVEL_BUDGETS[settings.thinking];
  }
  if (!can.grounding) delete settings.googleSearch;
  return settings;
}

/** The model and settings of a new reply, checked against the caller's tier (403/400 as `checkModel`). */
export function resolveReply(
  models: Models,
  tier: Tier,
  room: { model: string | null; settings: ReplySettings },
  overrides: { model?: string; settings?: ReplySettings },
): { model: string; settings: ReplySettings } {
  const model = overrides.model ?? room.model ?? models.defaultModel[tier];
  checkModel(models, tier, model, overrides.model !== undefined ? 'model' : 'chatroom.model');
  return { model, settings: resolveSettings(model, room.settings, overrides.settings) };
}
