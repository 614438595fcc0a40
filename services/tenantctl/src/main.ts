/**
 * tenantctl: the operators' CLI. `npm run -s tenantctl -- <command>`; `--help` on any command.
 * Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 unauthorised, 5 unavailable.
 */
import { runCli } from './cli';
import { flushed, isBrokenPipe, writable } from './process-io';

const interrupted = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));

// A reader that stops early (`tenantctl tenants list | head`) closes the pipe: the rest of the
// output has nowhere to go, which is the reader's choice, not a failure of the command.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (!isBrokenPipe(err)) process.stderr.write(`tenantctl: cannot write output: ${err.message}\n`);
    process.exit(isBrokenPipe(err) ? 0 : 1);
  });
}

/**
 * The one exit of the process: only once stdout and stderr have written everything out. Exiting
 * at once would cut a pipe's output at its buffer (64 KiB on Linux, #18); exiting at all, rather
 * than letting the event loop empty, ends sockets a fetch keeps alive.
 */
async function exit(code: number): Promise<void> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  drain: () => writable(process.stdout),
  env: process.env,
  isTTY: Boolean(process.stdout.isTTY),
  errTTY: Boolean(process.stderr.isTTY),
  interrupted,
}).then(exit, (err: unknown) => {
  process.stderr.write(`tenantctl: ${(err as Error).message}\n`);
  return exit(1);
});
