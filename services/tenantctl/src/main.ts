/**
 * tenantctl: the operators' CLI. `npm run -s tenantctl -- <command>`; `--help` on any command.
 * Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 unauthorised, 5 unavailable.
 */
import { runCli } from './cli';

const interrupted = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));

runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  isTTY: Boolean(process.stdout.isTTY),
  interrupted,
}).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`tenantctl: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
