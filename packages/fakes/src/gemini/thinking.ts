import { googleError } from './gemini-errors.js';
import type { FakeModel, ThinkingLevel } from './model-catalog.js';
import type { GoogleRpcErrorBody, WireThinkingConfig } from './wire.types.js';

// What a request's `generationConfig.thinkingConfig` makes the fake do: how many thinking tokens it bills and
// whether thought summaries go out, or Google's 400 when the model cannot think as asked.
//
// Levels are accepted in either case (the REST docs use lowercase, the SDK's enum uppercase).
// A request that says nothing about thinking gets the fake's configured default (none unless set), so that
// plain replies keep exact, thinking-free usage; real models would think at their default level.

// Thinking tokens billed per level; a budget bills itself, up to the `high` amount. Small on purpose: thinking
// counts against maxOutputTokens before the visible text does.
export const THINKING_TOKENS: Readonly<Record<ThinkingLevel, number>> = { minimal: 8, low: 32, medium: 64, high: 128 };

export interface ThinkingPlan {
  // Undefined when the request leaves thinking to the default.
  tokens: number | undefined;
  // Thought summaries go out before the answer (only when thinking actually happens).
  includeThoughts: boolean;
}

export type ThinkingDecision = { plan: ThinkingPlan; error?: undefined } | { plan?: undefined; error: GoogleRpcErrorBody };

const DYNAMIC_BUDGET = -1;

const invalid = (message: string): ThinkingDecision => ({ error: googleError(400, { message }) });

export function decideThinking(config: WireThinkingConfig | undefined, model: FakeModel): ThinkingDecision {
  if (config === undefined || config === null || typeof config !== 'object') return { plan: { tokens: undefined, includeThoughts: false } };
  const budget = config.thinkingBudget;
  const rawLevel = typeof config.thinkingLevel === 'string' ? config.thinkingLevel : undefined;
  const level = rawLevel === undefined || /^thinking_level_unspecified$/i.test(rawLevel) ? undefined : rawLevel.toLowerCase();
  const wantsThoughts = config.includeThoughts === true;
  const support = model.thinking;

  if (budget !== undefined && (typeof budget !== 'number' || !Number.isInteger(budget))) {
    return invalid(`Invalid value at 'generation_config.thinking_config.thinking_budget' (TYPE_INT32), ${JSON.stringify(budget)}`);
  }
  if (budget !== undefined && level !== undefined) {
    return invalid('Only one of thinking_budget and thinking_level can be set.');
  }
  if (!support) {
    if ((budget !== undefined && budget !== 0) || level !== undefined) {
      return invalid(`Thinking is not supported for models/${model.id}.`);
    }
    return { plan: { tokens: budget === 0 ? 0 : undefined, includeThoughts: false } };
  }

  let tokens: number | undefined;
  if (level !== undefined) {
    if (!(support.levels as readonly string[]).includes(level)) {
      return invalid(`Thinking level ${rawLevel} is not supported for models/${model.id}.`);
    }
    tokens = THINKING_TOKENS[level as ThinkingLevel];
  } else if (budget === 0) {
    if (!support.canTurnOff) return invalid('Budget 0 is invalid. This model only works in thinking mode.');
    tokens = 0;
  } else if (budget === DYNAMIC_BUDGET) {
    tokens = THINKING_TOKENS[support.defaultLevel];
  } else if (budget !== undefined) {
    if (budget < support.minBudget || budget > support.maxBudget) {
      return invalid(`The thinking budget ${budget} is invalid. Please choose a value between ${support.minBudget} and ${support.maxBudget}.`);
    }
    tokens = Math.min(budget, THINKING_TOKENS.high);
  } else if (wantsThoughts) {
    tokens = THINKING_TOKENS[support.defaultLevel];
  }
  return { plan: { tokens, includeThoughts: wantsThoughts && tokens !== 0 } };
}

// The thought summaries of a reply, in order: deterministic and labelled, so a test can tell them from the
// answer. `said` is the user's last message (markers removed), `searchQuery` set when Google Search is on.
export function thoughtSummaries(said: string, searchQuery: string | undefined): string[] {
  const topic = said.length > 60 ? `${Array.from(said).slice(0, 60).join('')}…` : said;
  return [
    `**Thought summary (fake Gemini)** Reading the request: the user said "${topic}".`,
    searchQuery === undefined
      ? '**Thought summary (fake Gemini)** Planning the answer: the fake replies with its deterministic echo.'
      : `**Thought summary (fake Gemini)** Searching the web for "${searchQuery}", then answering with its deterministic echo.`,
  ];
}
