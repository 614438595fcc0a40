/** The job types Fairway runs, shared by the edge (validation), scheduler (classes) and workers. */
export {
  jobTypes,
  validateJob,
  estimateOf,
  JOB_CLASSES,
  JOB_TYPE_NAMES,
  type JobClass,
  type JobType,
  type JobTypeDefinition,
  type ValidatedJob,
} from './job-types';
export { compileSchema, CompiledSchema } from './compiled-schema';
export { JOB_STATES, type JobState } from './job-state';
