import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      '*.js',
      '*.mjs',
      '**/*.mts',
      '.snowline/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The console is a browser app with its own tsconfig (DOM, JSX, bundler resolution).
    files: ['apps/console/**/*.{ts,tsx}'],
    languageOptions: {
      parserOptions: {
        project: './apps/console/tsconfig.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    // TypeORM stays inside libs/persistence: apps and scripts speak repositories (STYLE 7, 14), and
    // a transaction reaches them as an opaque Tx. No exception under apps/, type imports included.
    // Tests may use it: they seed and check rows apart from the code under test, not through it.
    files: ['apps/**/*.{ts,tsx}', 'scripts/**/*.ts'],
    ignores: [
      // The e2e and chaos harness: test support, checks the database apart from the code like a test.
      'scripts/support/**',
      // Benchmarks seed tens of thousands of rows with set-based SQL no repository needs.
      'scripts/bench-sweep.ts',
      'scripts/bench-fleet.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'typeorm', message: 'Query through a repository in libs/persistence.' }],
          patterns: [
            {
              group: ['typeorm/*'],
              message: 'Query through a repository in libs/persistence.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression[callee.property.name=/^(query|createQueryBuilder)$/]',
          message: 'SQL lives in a repository in libs/persistence.',
        },
        {
          // The DataSource behind Repositories (`repos.ds`): a repository's business, not a service's.
          selector: "MemberExpression[property.name='ds']",
          message: 'Use a repository of Repositories, not its DataSource.',
        },
      ],
    },
  },
);
