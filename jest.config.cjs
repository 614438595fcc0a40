// One jest config, three tiers selected with --selectProjects (see scripts/test.cjs):
//   unit         *.test.ts beside the source, no I/O (and test/lint: the lint rules on fixtures)
//   integration  *.int.test.ts against the real Kafka broker and PostgreSQL
//   e2e          test/e2e/*.e2e.test.ts against the services running as real processes
const { compilerOptions } = require('./tsconfig.base.json');

// A `*` in an alias (`@fairway/fair-scheduler/simulation/*`) matches one path tail, as in tsc.
const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias.replace(/[/]/g, '\\/').replace('*', '(.*)')}$`,
    `<rootDir>/${target.replace('*', '$1')}`,
  ]),
);

const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }];

const common = {
  rootDir: __dirname,
  moduleNameMapper,
  transform: { '^.+\\.ts$': swc },
  testEnvironment: 'node',
  // .fairway/ holds run state, copies of dist/ or of the sources a long benchmark keeps using.
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.fairway/'],
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      // test/lint: the workspace's own rules (eslint.config.mjs), checked like any unit; bench/lib:
      // the benchmarks' pure statistics.
      testMatch: ['<rootDir>/{libs,services}/*/src/**/*.test.ts', '<rootDir>/test/lint/**/*.test.ts', '<rootDir>/bench/lib/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$'],
    },
    {
      ...common,
      displayName: 'integration',
      setupFilesAfterEnv: ['<rootDir>/test/support/slow-tier-timeout.cjs'],
      testMatch: ['<rootDir>/{libs,services}/*/src/**/*.int.test.ts'],
      globalSetup: '<rootDir>/test/support/integration-setup.cjs',
    },
    {
      ...common,
      displayName: 'e2e',
      setupFilesAfterEnv: ['<rootDir>/test/support/slow-tier-timeout.cjs'],
      testMatch: ['<rootDir>/test/e2e/**/*.e2e.test.ts'],
      globalSetup: '<rootDir>/test/e2e/global-setup.ts',
      globalTeardown: '<rootDir>/test/e2e/global-teardown.ts',
    },
  ],
};
