/**
 * The one way tests wait: for a condition, never for a fixed time. `probe` is asked again
 * every few milliseconds until it returns something truthy (which is returned), and the wait
 * fails after a deadline generous enough for a loaded machine, naming what did not happen.
 */
type Truthy<T> = Exclude<T, undefined | null | false | 0 | ''>;

const POLL_MS = 25;

export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
