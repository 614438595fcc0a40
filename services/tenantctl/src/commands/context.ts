import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '@fairway/config';
import { AdminClient } from '../admin-client';

/** Where tenantctl reads and writes; the real process passes its own, tests capture. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /**
   * Settles when `out` can take more. Commands that print page after page await it between pages,
   * so a slow reader holds them at one page of memory; absent (tests), there is no backpressure.
   */
  drain?: () => Promise<void>;
  env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal (top redraws in place, migrate draws a bar). */
  isTTY?: boolean;
  /** Whether stderr is a terminal (`tenants move` redraws its progress bar in place there). */
  errTTY?: boolean;
  /** Settles when the operator interrupts (Ctrl-C): `top` stops refreshing. */
  interrupted?: Promise<void>;
}

/** The admin API's default address (the control plane's ADMIN_PORT under `npm run up`). */
export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8081';

interface GlobalOptions {
  adminUrl?: string;
  token?: string;
  json?: boolean;
}

/** What every command group is given: the io, and helpers bound to it. */
export interface CommandContext {
  io: CliIo;
  /** The global options as this command sees them; flags win over the environment (io.env, so tests own it). */
  globals: (command: Command) => { json: boolean; adminUrl: string; token?: string };
  /** An admin API client for this command's options. */
  client: (command: Command) => AdminClient;
  /** Prints `value` as JSON under --json, else the human text `human()` makes. */
  print: (command: Command, value: unknown, human: () => string) => void;
  /** A sub-command of `parent` that reports through io and never exits the process. */
  sub: (parent: Command, name: string, description: string) => Command;
}

/** The {@link CommandContext} of one run. */
export function commandContext(io: CliIo): CommandContext {
  const globals = (command: Command) => {
    const o = command.optsWithGlobals<GlobalOptions>();
    const token = o.token ?? io.env['FAIRWAY_OPERATOR_TOKEN'];
    return { json: o.json === true, adminUrl: o.adminUrl ?? io.env['ADMIN_URL'] ?? DEFAULT_ADMIN_URL, ...(token ? { token } : {}) };
  };
  return {
    io,
    globals,
    client: (command) => {
      const o = globals(command);
      return new AdminClient({ baseUrl: o.adminUrl, ...(o.token ? { token: o.token } : {}) });
    },
    print: (command, value, human) => io.out(globals(command).json ? JSON.stringify(value, null, 2) : human()),
    sub: (parent, name, description) =>
      parent
        .command(name)
        .description(description)
        .exitOverride()
        .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) }),
  };
}

/** An option parser for integers >= 1. */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected an integer >= 1 (got '${value}')`);
  return n;
}

/** An option parser for durations such as '2s' (at least 100 ms), in ms. */
export function durationMs(value: string): number {
  try {
    const ms = parseDuration(value);
    if (ms < 100) throw new RangeError('at least 100ms');
    return ms;
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}
