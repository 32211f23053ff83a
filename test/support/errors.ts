/**
 * The error `p` rejects with, as a plain record (to match `name`, `reason`… with `toMatchObject`).
 * @throws Error when `p` resolves instead.
 */
export async function errorOf(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}
