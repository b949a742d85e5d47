// Writes openapi.json at the repository root: the same document GET /openapi.json serves, with sorted keys so the
// committed file only changes when the contract does. Needs neither Postgres nor Redis.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@gemini-chat/shared';
import { buildApp } from '../app.js';

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

// A fixed environment: the committed spec must not depend on whoever runs this.
const config = loadConfig({ NODE_ENV: 'development', PUBLIC_BASE_URL: 'http://127.0.0.1:3000' });
const app = await buildApp({ config, logger: false, specOnly: true });
await app.ready();
const spec = sortKeys(app.swagger());
await app.close();

const target = fileURLToPath(new URL('../../../../openapi.json', import.meta.url));
writeFileSync(target, `${JSON.stringify(spec, null, 2)}\n`);
console.log(`wrote ${target}`);
