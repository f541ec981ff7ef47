// Polls `probe` until it gives something truthy; past the deadline, fails with what is being
// waited for and whatever `context()` says then (a server's output, the operations).
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T,
  options: { timeoutMs?: number; context?: () => string | Promise<string> } = {},
) {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n${(await options.context?.()) ?? ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
