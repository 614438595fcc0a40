import { z } from 'zod';
import { commonConfigSchema, loadConfig, port } from '@fairway/config';

const schema = commonConfigSchema.extend({
  WORKER_PORT: port().default(7061),
  WORKER_HOST: z.string().default('127.0.0.1'),
  WORKER_ID: z.string().min(1).default(`worker-${process.pid}`),
});

/** The worker's configuration, read once from the environment. */
export type WorkerConfig = z.output<typeof schema>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return loadConfig(schema, env);
}
