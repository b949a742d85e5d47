import { describe, expect, it } from 'vitest';
import { AppError } from '@gemini-chat/shared';
import { checkModel, resolveReply, resolveSettings } from '../../src/lib/model-access.js';

const models = {
  models: [
    { id: 'gemini-3.8-flash', tiers: ['basic', 'pro'] as ('basic' | 'pro')[] },
    { id: 'gemini-3.1-pro-preview', tiers: ['pro'] as ('basic' | 'pro')[] },
    { id: 'gemini-2.0-flash', tiers: ['basic', 'pro'] as ('basic' | 'pro')[] },
  ],
  defaultModel: { basic: 'gemini-3.8-flash', pro: 'gemini-3.1-pro-preview' },
};

const codeOf = (work: () => unknown) => {
  try {
    work();
  } catch (err) {
    return err instanceof AppError ? `${err.status} ${err.code}` : String(err);
  }
  return 'ok';
};

describe('model access', () => {
  it('tells an unknown id (400) from one the tier may not use (403)', () => {
    expect(codeOf(() => checkModel(models, 'basic', 'gemini-3.1-pro-preview'))).toBe('403 MODEL_NOT_ALLOWED');
    expect(codeOf(() => checkModel(models, 'pro', 'gemini-3.1-pro-preview'))).toBe('ok');
    expect(codeOf(() => checkModel(models, 'pro', 'gemini-nope'))).toBe('400 MODEL_UNKNOWN');
  });

  it('uses the override, else the chatroom\'s model, else the tier\'s default', () => {
    expect(resolveReply(models, 'basic', { model: null, settings: {} }, {}).model).toBe('gemini-3.8-flash');
    expect(resolveReply(models, 'pro', { model: null, settings: {} }, {}).model).toBe('gemini-3.1-pro-preview');
    expect(resolveReply(models, 'pro', { model: 'gemini-3.8-flash', settings: {} }, {}).model).toBe('gemini-3.8-flash');
    expect(resolveReply(models, 'pro', { model: 'gemini-3.8-flash', settings: {} }, { model: 'gemini-2.0-flash' }).model).toBe('gemini-2.0-flash');
  });

  it('lays overrides over the chatroom\'s settings and leaves out what the model cannot do', () => {
    expect(resolveSettings('gemini-3.8-flash', { temperature: 0.2, thinking: 'low' }, { temperature: 1 })).toEqual({ temperature: 1, thinking: 'low' });
    // Gemini 2.0 neither thinks nor shows thoughts; it can ground.
    expect(resolveSettings('gemini-2.0-flash', { thinking: 'high', showThoughts: true, googleSearch: true }, undefined)).toEqual({ googleSearch: true });
    // An id the table does not know: text only, nothing else.
    expect(resolveSettings('some-model', { thinking: 2000, googleSearch: true, topP: 0.5 }, undefined)).toEqual({ topP: 0.5 });
    // Pro cannot stop thinking; Flash can (0 is the same as off).
    expect(resolveSettings('gemini-3.1-pro-preview', { thinking: 'off' }, undefined)).toEqual({});
    expect(resolveSettings('gemini-3.8-flash', { thinking: 0 }, undefined)).toEqual({ thinking: 'off' });
    // Gemini 2.5 takes budgets only.
    expect(resolveSettings('gemini-2.5-flash', { thinking: 'high' }, undefined)).toEqual({ thinking: 8192 });
  });
});
