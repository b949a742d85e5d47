import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import repository from '../vitest.config.js';

// The example clients' tests with the repository's settings (global setup, pool, timeouts, reporters):
//   npx vitest run --config examples/vitest.config.ts
// Once the root vitest.config.ts includes 'examples/*/test/**/*.test.ts', `pnpm vitest run examples` does the same.
export default defineConfig({
  ...repository,
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: { ...repository.test, include: ['examples/*/test/**/*.test.ts'] },
});
