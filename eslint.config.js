// Lint rules for the whole tree. Two project-specific rules: the layers (a file imports its own
// layer and those below it, never one above: docs/architecture.md), and the pure core (domain,
// commands, lifecycle, actions and the renderers) imports no I/O, so it can be tested without a
// database, a shell or a network.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The layers of src/, bottom up: a directory, or a file of src/ itself (runtime, serve, main). */
const LAYERS = [
  'domain',
  'system',
  'commands',
  'config',
  'store',
  'lifecycle',
  'queue',
  'git',
  'registrars',
  'providers',
  'runtime-sites',
  'runtime',
  'consistency',
  'actions',
  'bootstrap',
  'cli',
  'server',
  'web',
  'github',
  'serve',
  'main',
];
const TOP_FILES = ['runtime-sites', 'runtime', 'serve', 'main'];

/** Pure files outside the pure directories: the renderers, beside the surface that uses them. */
const PURE = [
  'src/domain/**',
  'src/commands/**',
  'src/lifecycle/**',
  'src/actions/**',
  'src/consistency/symbols.ts',
  'src/git/manifests.ts',
  'src/git/validate-manifests.ts',
  'src/git/helm-render.ts',
  'src/git/preview-rules.ts',
  'src/registrars/haproxy-config.ts',
  'src/providers/kind-config.ts',
  'src/github/answers.ts',
  'src/github/check-run.ts',
  'src/github/consistency-markdown.ts',
  'src/github/fit.ts',
  'src/github/markdown.ts',
  'src/github/status-comment.ts',
  'src/cli/consistency-text.ts',
  'src/cli/format.ts',
];

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
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // A file a reader can hold in mind, lines a reader need not scroll (docs/style.md).
      'max-lines': ['error', { max: 300 }],
      'max-len': ['error', { code: 100, ignoreUrls: false }],
    },
  },
  ...LAYERS.flatMap((layer, index) => {
    const top = TOP_FILES.includes(layer);
    const files = top ? [`src/${layer}.ts`] : [`src/${layer}/**/*.ts`];
    // How a file of this layer names each layer above it.
    const prefix = top ? './' : '../';
    const above = {
      group: LAYERS.slice(index + 1).map((h) =>
        TOP_FILES.includes(h) ? `${prefix}${h}.js` : `${prefix}${h}/*`,
      ),
      message: `a file of ${layer} imports its own layer and those below it only (docs/architecture.md, "Layers").`,
    };
    const io = {
      group: ioModules,
      message:
        'The pure core imports no I/O: take an adapter interface instead (docs/style.md rule 7).',
    };
    const pure = PURE.filter((p) => p.startsWith(`src/${layer}/`) || p === `src/${layer}.ts`);
    const rule = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
    const mine = above.group.length ? [above] : [];
    return [
      ...(mine.length ? [{ files, rules: rule(mine) }] : []),
      ...(pure.length ? [{ files: pure, rules: rule([...mine, io]) }] : []),
    ];
  }),
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
