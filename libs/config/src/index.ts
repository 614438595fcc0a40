/**
 * Configuration: each service reads process.env once, at start-up, through a zod schema; a bad
 * value stops the process with a message naming the variable. Durations are compiled to ms once.
 */
export { parseDuration } from './duration';
export { loadConfig, duration, list, port, flag, namedUrls, hostPort } from './env';
export { commonConfigSchema, readReplicaConfigSchema, type CommonConfig } from './common';
