import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'packages/sdk/src/schema.d.ts', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through loadConfig() only.' },
      ],
    },
  },
  {
    // CommonJS files exist to prove the SDK can be required: `require` is their point.
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', Response: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Migrations are frozen history typed as Kysely<any>: they must not depend on today's Database type.
    files: ['packages/shared/src/db/migrations/**', 'packages/shared/src/db/migrate.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The one place that reads the environment, the process shells that hand it over, and tests (which take the
    // test database and Redis from it and hand it to the processes they spawn).
    files: ['packages/shared/src/config/**', 'packages/fakes/src/*/main.ts', 'scripts/**', '**/test/**', 'tests/**', 'packages/testkit/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
