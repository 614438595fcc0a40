/**
 * tenantctl's exit codes, stable for scripts: a wrapper can tell "no such tenant" from "wrong
 * token" from "the edge is down" without parsing text.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  unauthorised: 4,
  unavailable: 5,
} as const;

/** One of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure that ends the command with a message and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    /** The problem+json `code` of the admin API, when the failure came from it. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
