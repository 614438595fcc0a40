/**
 * The layer rules of eslint.config.mjs fail an import that runs the wrong way (docs/architecture.md,
 * "Layers"). Each case lints a small source text as if it were a file of a given project, through
 * `eslint --stdin`: nothing is written into the workspace, so a colleague's lint run never sees it.
 * A case that should pass guards against rules so broad that they fail the right way too.
 */
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
const eslintBin = path.join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');

interface LintMessage {
  ruleId: string | null;
  message: string;
}

function lint(filePath: string, source: string): Promise<LintMessage[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [eslintBin, '--stdin', '--stdin-filename', filePath, '--format', 'json'],
      { cwd: root, env: { ...process.env, NX_DAEMON: 'false' }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout) => {
        // eslint exits 1 when it reports an error; anything else (2: a crash, bad config) is a failure.
        if (error && error.code !== 1) return reject(error);
        try {
          const [result] = JSON.parse(stdout) as Array<{ messages: LintMessage[] }>;
          resolve(result?.messages ?? []);
        } catch (parseError) {
          reject(parseError);
        }
      },
    );
    child.stdin?.end(source);
  });
}

const wrongWay: ReadonlyArray<{ name: string; file: string; source: string; expected: RegExp }> = [
  {
    name: 'the core imports a lib of ours',
    file: 'libs/fair-scheduler/src/wrong-way.ts',
    source: "import { FairwayError } from '@fairway/errors';\nexport const e = FairwayError;\n",
    expected: /layer:core" cannot depend on any libs/,
  },
  {
    name: 'the core imports a Node built-in',
    file: 'libs/fair-scheduler/src/wrong-way.ts',
    source: "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
    expected: /'node:fs' import is restricted/,
  },
  {
    name: 'the core imports an npm package',
    file: 'libs/fair-scheduler/src/wrong-way.ts',
    source: "import { z } from 'zod';\nexport const s = z.string();\n",
    expected: /layer:core" is not allowed to import "zod"/,
  },
  {
    name: 'the core reads the process or a clock',
    file: 'libs/fair-scheduler/src/wrong-way.ts',
    source: "export const now = (): number => Date.now() + Number(process.env['SKEW'] ?? 0);\n",
    expected: /Unexpected use of 'process'/,
  },
  {
    name: 'a domain lib imports an adapter',
    file: 'libs/jobs/src/wrong-way.ts',
    source: "import { TokenVerifier } from '@fairway/auth';\nexport const v = TokenVerifier;\n",
    expected: /layer:domain" can only depend on libs tagged with "layer:domain", "layer:core"/,
  },
  {
    name: 'a service imports another service',
    file: 'services/worker/src/wrong-way.ts',
    source: "import { JobStore } from '../../scheduler/src/job-store';\nexport const s = JobStore;\n",
    expected: /Projects cannot be imported by a relative or absolute path/,
  },
  {
    name: 'a lib imports a tool (a benchmark helper)',
    file: 'libs/db/src/wrong-way.ts',
    source: "import { processCpuMs } from '../../../bench/lib/process-cpu';\nexport const c = processCpuMs;\n",
    expected: /Projects cannot be imported by a relative or absolute path/,
  },
  {
    name: "a service builds a tenant cache key with the lib's internal key builder (by path)",
    file: 'services/edge/src/wrong-way.ts',
    source: "import { tenantKeys } from '../../../libs/tenant-cache/src/internal/keys';\nexport const k = tenantKeys;\n",
    expected: /Projects cannot be imported by a relative or absolute path/,
  },
  {
    name: "a service builds a tenant cache key with the lib's internal key builder (through the package link)",
    file: 'services/edge/src/wrong-way.ts',
    source: "import { tenantKeys } from '@fairway/tenant-cache/src/internal/keys';\nexport const k = tenantKeys;\n",
    expected: /import a lib through its entry/,
  },
];

const rightWay: ReadonlyArray<{ name: string; file: string; source: string }> = [
  {
    name: 'a service imports an adapter, a domain lib and the core',
    file: 'services/scheduler/src/right-way.ts',
    source:
      "import { createPool } from '@fairway/db';\nimport { FairwayError } from '@fairway/errors';\nimport { FairScheduler } from '@fairway/fair-scheduler';\nexport const all = [createPool, FairwayError, FairScheduler];\n",
  },
  {
    name: 'the core imports its own files',
    file: 'libs/fair-scheduler/src/right-way.ts',
    source: "import { FairScheduler } from './fair-scheduler';\nexport const s = FairScheduler;\n",
  },
];

describe('layers in eslint.config.mjs', () => {
  beforeAll(() => {
    // The module-boundaries rule reads Nx's cached project graph; refresh it as `npm run lint` does.
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'nx', 'bin', 'nx.js'), 'show', 'projects'], {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false' },
      stdio: 'ignore',
    });
  }, 60_000);

  it.each(wrongWay)(
    'fails when $name',
    async ({ file, source, expected }) => {
      const messages = await lint(file, source);
      expect(messages.map((m) => m.message)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
    },
    60_000,
  );

  it.each(rightWay)(
    'passes when $name',
    async ({ file, source }) => {
      expect(await lint(file, source)).toEqual([]);
    },
    60_000,
  );
});
