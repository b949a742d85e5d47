import type { Config, Tier } from '@gemini-chat/shared';
import type { GeminiModelCatalog } from '../lib/gemini-models.js';
import { displayNameOf, knownCapabilities } from '../lib/model-families.js';
import type { ModelList } from '../schemas/model.schemas.js';

/** The configured models (which ones, for whom), described with what Gemini's model list says of each. */
export function createModelService(config: Pick<Config['gemini'], 'models' | 'defaultModel'>, catalog: GeminiModelCatalog) {
  return {
    async list(tier: Tier): Promise<ModelList> {
      const gemini = await catalog.current();
      const defaultModel = config.defaultModel[tier];
      const items = config.models
        .filter((model) => model.tiers.includes(tier))
        .map((model) => {
          const info = gemini?.get(model.id);
          const known = knownCapabilities(model.id);
          return {
            id: model.id,
            displayName: info?.displayName ?? displayNameOf(model.id),
            inputTokenLimit: info?.inputTokenLimit ?? null,
            outputTokenLimit: info?.outputTokenLimit ?? null,
            inputModalities: known.inputModalities,
            thinking: info?.thinking ?? known.thinking,
            grounding: known.grounding,
            tiers: model.tiers,
            default: model.id === defaultModel,
          };
        });
      return { items, nextCursor: null, defaultModel };
    },
  };
}
export type ModelService = ReturnType<typeof createModelService>;
