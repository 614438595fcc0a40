/**
 * Side-effect entry: starts telemetry before anything else is loaded, so the auto-instrumentation
 * of http, express, @grpc/grpc-js and pg can patch those modules as they are first required.
 *
 * Use it as the first import of a service's main.ts (`import '@fairway/telemetry/register';`), or
 * preload it: `node --require ./dist/libs/telemetry/src/register.js dist/services/edge/src/main.js`.
 * The service name is OTEL_SERVICE_NAME, else `fairway-<name>` from the script's path
 * (dist/services/<name>/src/main.js), else `fairway`.
 */
import { startTelemetry } from './tracing';

/** `fairway-<name>` for a script under services/<name>/, else `fairway`. */
export function serviceNameOf(script: string | undefined): string {
  const match = /[\\/]services[\\/]([^\\/]+)[\\/]/.exec(script ?? '');
  return match ? `fairway-${match[1]}` : 'fairway';
}

startTelemetry(process.env['OTEL_SERVICE_NAME'] ?? serviceNameOf(process.argv[1]));
