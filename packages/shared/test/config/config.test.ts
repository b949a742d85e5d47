import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/index.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('runs offline with no environment at all', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ env: 'development', http: { port: 3000 }, otp: { delivery: 'response' }, quota: { basic: 5, pro: 1000 } });
  });

  it('converts types and applies overrides', () => {
    const config = loadConfig({ PORT: '8080', TRUST_PROXY: '10.0.0.0/8', CORS_ORIGINS: 'https://a.example, https://b.example', QUOTA_PRO_DAILY: '0' });
    expect(config.http).toMatchObject({ port: 8080, trustProxy: ['10.0.0.0/8'], corsOrigins: ['https://a.example', 'https://b.example'] });
    expect(config.quota.pro).toBe(0);
  });

  it('takes TRUST_PROXY as off or trusted proxy addresses, and refuses settings a client could spoof', () => {
    expect(loadConfig({}).http.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).http.trustProxy).toBe(false);
    expect(problemsOf({ TRUST_PROXY: '1' }).join('\n')).toMatch(/^TRUST_PROXY: a hop count cannot tell our proxy/);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,loopback, fd00::/8' }).http.trustProxy).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'loopback',
      'fd00::/8',
    ]);
    expect(problemsOf({ TRUST_PROXY: 'true' }).join('\n')).toMatch(/^TRUST_PROXY: true would believe an X-Forwarded-For written by any client/);
    expect(problemsOf({ TRUST_PROXY: '10.0.0.0/33' }).join('\n')).toMatch(/^TRUST_PROXY: .*not 10\.0\.0\.0\/33/);
    expect(problemsOf({ TRUST_PROXY: 'my-proxy' })).toHaveLength(1);
  });

  it('lists every bad key at once', () => {
    const problems = problemsOf({ PORT: 'eighty', LOG_LEVEL: 'loud', OTP_DELIVERY: 'carrier-pigeon' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['LOG_LEVEL', 'OTP_DELIVERY', 'PORT']);
  });

  it('refuses production without secrets or with OTPs returned in responses', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems.join('\n')).toMatch(/JWT_SECRET: required/);
    expect(problems.join('\n')).toMatch(/OTP_SECRET: required/);
    expect(problems.join('\n')).toMatch(/OTP_DELIVERY/);
    expect(problems.join('\n')).toMatch(/GEMINI_API_KEY: required in production/);
  });

  it('accepts production with secrets and log delivery, or with response delivery explicitly allowed', () => {
    const secrets = { NODE_ENV: 'production', JWT_SECRET: 'j'.repeat(40), OTP_SECRET: 'o'.repeat(40), GEMINI_API_KEY: 'g' };
    expect(problemsOf({ ...secrets, OTP_DELIVERY: 'log' })).toEqual([]);
    expect(problemsOf({ ...secrets, OTP_ALLOW_RESPONSE_DELIVERY_IN_PRODUCTION: 'true' })).toEqual([]);
  });

  it('rejects short secrets anywhere', () => {
    expect(problemsOf({ JWT_SECRET: 'short' })).toEqual(['JWT_SECRET: must be at least 32 characters']);
  });
});

describe('loadConfig: billing', () => {
  const stripe = { STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' };

  it('leaves billing off without a Stripe key, with offline defaults', () => {
    const config = loadConfig({});
    expect(config.billing).toMatchObject({ stripe: undefined, proPriceId: 'price_pro_monthly', pastDueGraceHours: 72 });
    expect(config.billing.successUrl).toMatch(/^http:\/\/127\.0\.0\.1:3000\/docs\//);
  });

  it('reads STRIPE_API_BASE_URL into stripe-node host, port and protocol', () => {
    const config = loadConfig({ ...stripe, STRIPE_API_BASE_URL: 'http://127.0.0.1:12111' });
    expect(config.billing.stripe).toEqual({ secretKey: 'sk_test_x', webhookSecret: 'whsec_x', api: { host: '127.0.0.1', port: 12111, protocol: 'http' } });
    expect(loadConfig(stripe).billing.stripe?.api).toBeUndefined();
  });

  it('refuses a key without a webhook secret, a live key sent elsewhere, and bad URLs', () => {
    expect(problemsOf({ STRIPE_SECRET_KEY: 'sk_test_x' })).toEqual(['STRIPE_WEBHOOK_SECRET: required when STRIPE_SECRET_KEY is set']);
    expect(problemsOf({ ...stripe, STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_API_BASE_URL: 'http://127.0.0.1:12111' }).join('\n')).toMatch(/live Stripe key/);
    expect(problemsOf({ BILLING_SUCCESS_URL: 'not a url' })).toEqual(['BILLING_SUCCESS_URL: must be an absolute http(s) URL']);
  });

  it('in production, billing stays optional but once on needs the return URLs', () => {
    const secrets = { NODE_ENV: 'production', JWT_SECRET: 'j'.repeat(40), OTP_SECRET: 'o'.repeat(40), OTP_DELIVERY: 'log', GEMINI_BASE_URL: 'http://127.0.0.1:8787' };
    expect(problemsOf(secrets)).toEqual([]);
    expect(problemsOf({ ...secrets, ...stripe })).toEqual([
      'BILLING_SUCCESS_URL: required in production when billing is on',
      'BILLING_CANCEL_URL: required in production when billing is on',
    ]);
    expect(problemsOf({ ...secrets, ...stripe, BILLING_SUCCESS_URL: 'https://app.example/ok', BILLING_CANCEL_URL: 'https://app.example/back' })).toEqual([]);
  });
});

describe('loadConfig: models', () => {
  const catalog = 'gemini-3.5-flash-lite:basic+pro, gemini-3.8-flash:basic+pro, gemini-3.1-pro-preview:pro';

  it('without GEMINI_MODELS offers GEMINI_MODEL alone, to every tier, as every default', () => {
    expect(loadConfig({}).gemini).toMatchObject({
      model: 'gemini-flash-latest',
      models: [{ id: 'gemini-flash-latest', tiers: ['basic', 'pro'] }],
      defaultModel: { basic: 'gemini-flash-latest', pro: 'gemini-flash-latest' },
      modelsCacheSeconds: 600,
      modelsTimeoutMs: 2000,
    });
    expect(loadConfig({ GEMINI_MODEL: 'gemini-3.8-flash' }).gemini).toMatchObject({
      models: [{ id: 'gemini-3.8-flash', tiers: ['basic', 'pro'] }],
      defaultModel: { basic: 'gemini-3.8-flash', pro: 'gemini-3.8-flash' },
    });
  });

  it('reads the allow-list in order with its tiers; defaults fall back to GEMINI_MODEL', () => {
    const config = loadConfig({ GEMINI_MODELS: catalog, GEMINI_MODEL: 'gemini-3.8-flash', GEMINI_DEFAULT_MODEL_PRO: 'gemini-3.1-pro-preview' });
    expect(config.gemini.models).toEqual([
      { id: 'gemini-3.5-flash-lite', tiers: ['basic', 'pro'] },
      { id: 'gemini-3.8-flash', tiers: ['basic', 'pro'] },
      { id: 'gemini-3.1-pro-preview', tiers: ['pro'] },
    ]);
    expect(config.gemini.defaultModel).toEqual({ basic: 'gemini-3.8-flash', pro: 'gemini-3.1-pro-preview' });
    // An id without tiers is open to every tier; tiers keep one order whatever the order written.
    expect(loadConfig({ GEMINI_MODELS: 'gemini-3.8-flash,gemini-3.1-pro-preview:pro+basic', GEMINI_MODEL: 'gemini-3.8-flash' }).gemini.models).toEqual([
      { id: 'gemini-3.8-flash', tiers: ['basic', 'pro'] },
      { id: 'gemini-3.1-pro-preview', tiers: ['basic', 'pro'] },
    ]);
  });

  it('lists every bad entry and every default that is not in the list or not open to its tier', () => {
    expect(problemsOf({ GEMINI_MODELS: 'gemini-3.8-flash:gold, models/gemini-3.7-flash, ,gemini-3.8-flash:pro, a:b:c', GEMINI_MODEL: 'gemini-3.8-flash' })).toEqual([
      'GEMINI_MODELS: tiers are basic and pro, joined with + (not "gold") (in "gemini-3.8-flash:gold")',
      'GEMINI_MODELS: a model id is letters, digits, dots, dashes and underscores, without "models/" (in "models/gemini-3.7-flash")',
      'GEMINI_MODELS: an empty entry (in "")',
      'GEMINI_MODELS: one colon per entry: id:tier+tier (in "a:b:c")',
      'GEMINI_DEFAULT_MODEL_BASIC: "gemini-3.8-flash" (GEMINI_MODEL, used when GEMINI_DEFAULT_MODEL_BASIC is unset) is not open to basic in GEMINI_MODELS',
    ]);
    expect(problemsOf({ GEMINI_MODELS: 'gemini-3.8-flash:pro,gemini-3.8-flash:basic', GEMINI_MODEL: 'gemini-3.8-flash' })).toEqual([
      'GEMINI_MODELS: gemini-3.8-flash is listed twice (in "gemini-3.8-flash:basic")',
      'GEMINI_DEFAULT_MODEL_BASIC: "gemini-3.8-flash" (GEMINI_MODEL, used when GEMINI_DEFAULT_MODEL_BASIC is unset) is not open to basic in GEMINI_MODELS',
    ]);
    expect(problemsOf({ GEMINI_MODELS: catalog, GEMINI_DEFAULT_MODEL_BASIC: 'gemini-3.1-pro-preview' })).toEqual([
      'GEMINI_DEFAULT_MODEL_BASIC: "gemini-3.1-pro-preview" is not open to basic in GEMINI_MODELS',
      'GEMINI_DEFAULT_MODEL_PRO: "gemini-flash-latest" (GEMINI_MODEL, used when GEMINI_DEFAULT_MODEL_PRO is unset) is not in GEMINI_MODELS',
    ]);
    expect(problemsOf({ GEMINI_DEFAULT_MODEL_PRO: 'gemini-3.1-pro-preview' })).toEqual([
      'GEMINI_DEFAULT_MODEL_PRO: "gemini-3.1-pro-preview" is not in GEMINI_MODELS',
    ]);
  });
});
