import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'apps/console/**', '*.js', '*.mjs', '.snowline/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // TypeORM stays inside libs/persistence: the worker's loops speak repositories (STYLE 7, 14).
    // Files not listed here still import it; each moves under the rule once its SQL is in a repository.
    files: [
      'apps/worker/src/health/**/*.ts',
      'apps/worker/src/standby/**/*.ts',
      'apps/worker/src/failover/remediation.service.ts',
      'apps/worker/src/failover/move-watchdog.service.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'typeorm', message: 'Query through a repository in libs/persistence.' }] },
      ],
    },
  },
);
