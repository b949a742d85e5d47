import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '@gemini-chat/shared';

// No Docker engine runs in CI, so this reads the compose files the way `docker compose` would (YAML, variable
// interpolation, later files overriding earlier ones) and feeds the result to the real config loader.
type Service = { environment?: Record<string, string | number | boolean> };
type ComposeFile = { services: Record<string, Service> };

const read = (name: string) => readFileSync(new URL(`../../${name}`, import.meta.url), 'utf8');

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}. */
function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?:(:?)([-?])([^}]*))?\}/g, (_match, name: string, colon: string, op: string, arg: string) => {
    const value = vars[name];
    const missing = value === undefined || (colon === ':' && value === '');
    if (!missing) return value;
    if (op === '?') throw new Error(`required variable ${name} is missing: ${arg}`);
    return op === '-' ? arg : '';
  });
}

function environmentOf(service: string, files: string[], vars: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const file of files) {
    // Like compose: the YAML is parsed first, then variables are substituted in its values.
    const compose = parse(read(file), { merge: true }) as ComposeFile;
    for (const [key, value] of Object.entries(compose.services[service]?.environment ?? {})) env[key] = interpolate(String(value), vars);
  }
  return env;
}

const secrets = { JWT_SECRET: 'a'.repeat(64), OTP_SECRET: 'b'.repeat(64) };

describe('docker-compose.yml', () => {
  it('refuses to start without secrets: it has no fixed ones to fall back on', () => {
    expect(() => environmentOf('api', ['docker-compose.yml'], {})).toThrow(/JWT_SECRET/);
    expect(() => environmentOf('api', ['docker-compose.yml'], { JWT_SECRET: secrets.JWT_SECRET })).toThrow(/OTP_SECRET/);
  });

  it('is a safe production configuration once given secrets and a Gemini key: codes only logged, no trusted proxy', () => {
    for (const service of ['api', 'worker', 'migrate']) {
      const env = environmentOf(service, ['docker-compose.yml'], { ...secrets, GEMINI_API_KEY: 'key' });
      const config = loadConfig(env);
      expect(config).toMatchObject({ env: 'production', otp: { delivery: 'log' }, http: { trustProxy: false } });
      expect(config.auth.jwtSecret).toBe(secrets.JWT_SECRET);
      expect(config.billing.stripe).toBeUndefined();
    }
  });

  it('refuses OTP codes in responses unless both opt-ins are given', () => {
    const env = environmentOf('api', ['docker-compose.yml'], { ...secrets, GEMINI_API_KEY: 'key', OTP_DELIVERY: 'response' });
    expect(() => loadConfig(env)).toThrow(/OTP_DELIVERY/);
  });

  it('with docker-compose.offline.yml, runs on the bundled fakes with OTPs in responses, as explicitly chosen', () => {
    const files = ['docker-compose.yml', 'docker-compose.offline.yml'];
    const config = loadConfig(environmentOf('api', files, secrets));
    expect(config.otp.delivery).toBe('response');
    expect(config.billing.stripe?.api).toEqual({ host: 'fake-stripe', port: 12111, protocol: 'http' });
    expect(loadConfig(environmentOf('worker', files, secrets)).gemini.baseUrl).toBe('http://fake-gemini:8787');
    const offline = parse(read('docker-compose.offline.yml'), { merge: true }) as ComposeFile;
    expect(Object.keys(offline.services).sort()).toEqual(['api', 'fake-gemini', 'fake-stripe', 'worker']);
  });
});
