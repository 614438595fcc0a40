/** Stops the stack global-setup started. */
export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as { __fairwayStack?: { stop: () => Promise<unknown> } }).__fairwayStack;
  await stack?.stop();
}
