// Lint: typescript-eslint's recommended rules, and layers the linter enforces (docs/architecture.md,
// "Layers"). Every project carries one tag, and the arrows point one way:
//   layer:tool (bench, test, scripts, tools/*) -> layer:service -> layer:adapter -> layer:domain -> layer:core
// A project imports its own layer (except services: they never import each other) and the layers
// below it; nothing imports a tool. The core imports nothing: no lib of ours, no npm package, no Node
// built-in, no process, no clock (time is passed in), which the no-restricted-* rules below enforce.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const depConstraints = [
  // The core's npm allow-list: fast-check, for its property tests only (its source imports nothing, below).
  { sourceTag: 'layer:core', onlyDependOnLibsWithTags: [], allowedExternalImports: ['fast-check'] },
  { sourceTag: 'layer:domain', onlyDependOnLibsWithTags: ['layer:domain', 'layer:core'] },
  { sourceTag: 'layer:adapter', onlyDependOnLibsWithTags: ['layer:adapter', 'layer:domain', 'layer:core'] },
  { sourceTag: 'layer:service', onlyDependOnLibsWithTags: ['layer:adapter', 'layer:domain', 'layer:core'] },
  { sourceTag: 'layer:tool', onlyDependOnLibsWithTags: ['layer:adapter', 'layer:domain', 'layer:core'] },
];

/**
 * @nx/enforce-module-boundaries with the layer rules; `allow` holds regular expressions of imports
 * exempt from every check. A lib imported with `await import()` in one file and statically in
 * another is fine in Node (Nx's "lazy-loaded library" check is about browser bundles), hence
 * checkDynamicDependenciesExceptions for our libs.
 */
const moduleBoundaries = (allow = []) => [
  'error',
  { enforceBuildableLibDependency: false, allow, depConstraints, checkDynamicDependenciesExceptions: ['@fairway/**'] },
];

// Globals the core must not touch: the process, Node's buffers and module system, timers and
// clocks (the core receives `now`; it never reads a clock or schedules a callback), and the console.
const coreBannedGlobals = [
  ...['process', 'Buffer', 'require', 'module', '__dirname', '__filename', 'global'].map((name) => ({
    name,
    message: 'the fair-scheduling core is pure: no Node runtime (docs/architecture.md, "Layers").',
  })),
  ...['Date', 'performance', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask'].map((name) => ({
    name,
    message: 'the fair-scheduling core reads no clock and schedules nothing: take `now` as an argument.',
  })),
  { name: 'console', message: 'the fair-scheduling core does no I/O: return what happened (explain(), snapshot()) instead of logging it.' },
];

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', 'dist/**', '.fairway/**', '.nx/**', 'coverage/**', 'libs/grpc/src/generated/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries(),
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // A lib is reached through its entries (index.ts, testing.ts, the subpaths tsconfig names), never
    // through `@fairway/<lib>/src/...`, which the workspace's node_modules link would otherwise resolve:
    // internals such as the tenant cache's key builder stay unreachable. Before the core's block,
    // whose own no-restricted-imports replaces this one for the core (it imports no lib at all).
    files: ['**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@fairway/*/src', '@fairway/*/src/**'],
              message:
                "import a lib through its entry (@fairway/<lib>, or a subpath tsconfig.base.json names), not its src/: what index.ts leaves out is internal (the tenant cache's key builder, say).",
            },
          ],
        },
      ],
    },
  },
  {
    // The core's own source (its tests may use node:fs and fast-check): relative imports only. The
    // random-trace generator is test tooling too (fast-check), shared by the property tests and
    // bench:fairness; nothing in the core imports it.
    files: ['libs/fair-scheduler/src/**/*.ts'],
    ignores: ['**/*.test.ts', 'libs/fair-scheduler/src/simulation/random-scenarios.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\.{1,2}/)',
              message: 'the fair-scheduling core imports only its own files: no Node built-in, npm package or lib of ours (docs/architecture.md, "Layers").',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', ...coreBannedGlobals],
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression', message: 'the fair-scheduling core loads no module at run time.' },
        { selector: 'TSImportType', message: 'the fair-scheduling core refers to no type outside itself.' },
        { selector: "TSQualifiedName[left.name='NodeJS']", message: 'the fair-scheduling core uses no Node type.' },
      ],
    },
  },
  {
    // Benchmarks measure two services from inside: bench:edge assembles the edge app from its
    // modules, bench:ingest and bench:dispatch drive the scheduler's ingest and job store (until
    // #17 item 2 gives the jobs table a lib of its own), bench:scale serves the control plane's
    // admin app over its catalog. An app's module is reachable only by a relative path, so these
    // three, and nothing else of a service, are exempt for bench/ alone.
    files: ['bench/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries(['^\\.\\./services/(edge|scheduler|control-plane)/src/[a-z-]+$']),
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setImmediate: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
        jest: 'readonly',
        TextEncoder: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
