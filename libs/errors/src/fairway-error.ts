import type { ErrorCode } from './catalog';

/**
 * The one base class of every error Fairway raises on purpose. `code` is stable (clients and
 * dashboards key on it), `retriable` says whether the same request may succeed later.
 */
export abstract class FairwayError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly retriable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** Fields that travel with the error to the client, beyond code and message. */
  details(): Record<string, unknown> {
    return {};
  }
}
