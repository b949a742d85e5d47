import { Type, type Static } from 'typebox';
import { Nullable } from './common.schemas.js';
import { TierSchema } from './user.schemas.js';

const InputModalitySchema = Type.Union(
  [Type.Literal('text'), Type.Literal('image'), Type.Literal('audio'), Type.Literal('video'), Type.Literal('pdf')],
  { description: 'A kind of input the model accepts.' },
);

const TokenLimit = (what: string) =>
  Nullable(
    Type.Integer({
      minimum: 1,
      description: `${what}, from Gemini's model list. null when that list could not be read (the API keeps answering while Gemini is unreachable) or does not give it: do not assume a limit then.`,
    }),
  );

export const ModelSchema = Type.Object(
  {
    id: Type.String({ description: 'Gemini model id, as a chatroom names it.', examples: ['gemini-3.8-flash'] }),
    displayName: Type.String({ description: 'Gemini\'s name for the model, or one made from the id when Gemini\'s list is unavailable.' }),
    inputTokenLimit: TokenLimit('Largest prompt in tokens'),
    outputTokenLimit: TokenLimit('Largest reply in tokens'),
    inputModalities: Type.Array(InputModalitySchema, {
      description: 'What the model takes as input, by model family; only text for a model the API does not know.',
    }),
    thinking: Type.Boolean({ description: 'The model can think before answering (Gemini\'s own flag when its list gives one, else by model family).' }),
    grounding: Type.Boolean({ description: 'The model can ground answers with Google Search (by model family; false for a model the API does not know).' }),
    tiers: Type.Array(TierSchema, { description: 'The tiers allowed to use the model.' }),
    default: Type.Boolean({ description: 'The caller\'s tier default: what a chatroom without a model uses.' }),
  },
  { 'x-component-name': 'Model', additionalProperties: false },
);
export type Model = Static<typeof ModelSchema>;

export const ModelListSchema = Type.Object(
  {
    items: Type.Array(ModelSchema, { description: 'The models the caller\'s tier may use, in the configured order.' }),
    nextCursor: Nullable(Type.String({ description: 'Always null today (the whole list is one page); typed as every list\'s cursor.' })),
    defaultModel: Type.String({ description: 'Id of the caller\'s tier default (the item with `default: true`).' }),
  },
  { 'x-component-name': 'ModelList', additionalProperties: false },
);
export type ModelList = Static<typeof ModelListSchema>;
