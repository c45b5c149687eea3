/**
 * Bounded waiting for end-to-end tests: every wait has a deadline and says what it waited for.
 */

export interface PollOptions {
  /** Give up after this many milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Pause between attempts (default 100 ms). */
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  what?: string;
  /** Extra text for the timeout message (e.g. what was seen instead), computed only on timeout. */
  describe?: () => string;
}

/**
 * Calls `check` until it returns a value other than undefined, null or false, and returns that
 * value. An exception thrown by `check` counts as "not yet" (the last one is quoted on timeout).
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: PollOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const parts = [`timeout after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}`];
      if (lastError !== undefined) parts.push(`last error: ${String(lastError)}`);
      if (options.describe) parts.push(options.describe());
      throw new Error(parts.join('\n'));
    }
    await delay(intervalMs);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
