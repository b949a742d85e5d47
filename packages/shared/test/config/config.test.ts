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
    const config = loadConfig({ PORT: '8080', TRUST_PROXY: 'true', CORS_ORIGINS: 'https://a.example, https://b.example', QUOTA_PRO_DAILY: '0' });
    expect(config.http).toMatchObject({ port: 8080, trustProxy: true, corsOrigins: ['https://a.example', 'https://b.example'] });
    expect(config.quota.pro).toBe(0);
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
  });

  it('accepts production with secrets and log delivery, or with response delivery explicitly allowed', () => {
    const secrets = { NODE_ENV: 'production', JWT_SECRET: 'j'.repeat(40), OTP_SECRET: 'o'.repeat(40) };
    expect(problemsOf({ ...secrets, OTP_DELIVERY: 'log' })).toEqual([]);
    expect(problemsOf({ ...secrets, OTP_ALLOW_RESPONSE_DELIVERY_IN_PRODUCTION: 'true' })).toEqual([]);
  });

  it('rejects short secrets anywhere', () => {
    expect(problemsOf({ JWT_SECRET: 'short' })).toEqual(['JWT_SECRET: must be at least 32 characters']);
  });
});
