// Lint rules for the whole tree. The one project-specific rule: the pure core (domain, commands,
// lifecycle, render) imports no I/O, so it can be tested without a database, a shell or a network.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = [
  'pg',
  'pg-boss',
  '@electric-sql/pglite',
  '@electric-sql/pglite/*',
  'execa',
  'probot',
  '@octokit/*',
  '@kubernetes/client-node',
  'node:fs',
  'node:fs/promises',
  'fs',
  'fs/promises',
  'node:child_process',
  'child_process',
  'node:net',
  'node:http',
  'node:https',
  'nock',
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'test-results/', 'coverage/', 'bin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    files: ['src/domain/**', 'src/commands/**', 'src/lifecycle/**', 'src/render/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ioModules,
              message:
                'The pure core imports no I/O: take an adapter interface instead (docs/style.md rule 7).',
            },
          ],
        },
      ],
    },
  },
  {
    // The console's page script runs in the browser.
    files: ['src/web/assets/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(
        ['document', 'EventSource', 'fetch', 'location', 'DOMParser', 'setTimeout'].map((g) => [
          g,
          'readonly',
        ]),
      ),
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        process: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        setTimeout: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
