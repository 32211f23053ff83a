/**
 * Polls `probe` every 100 ms until it returns a value, and returns that value.
 * @param what - what is awaited, for the error message
 * @param timeoutMs - give up after this long. @default 40000
 * @throws Error `timed out waiting for <what>` when `timeoutMs` passes first.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 40_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
