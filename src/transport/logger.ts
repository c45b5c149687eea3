/**
 * The logging interface of the transport layer: the subset of pino's API it calls, so a pino
 * logger (or a child of one) can be passed directly. The default logs nothing.
 */
export interface TransportLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const nothing = (): void => {};

export const silentLogger: TransportLogger = { debug: nothing, info: nothing, warn: nothing, error: nothing };

/**
 * Limits a repeated warning (queue overflow, decode errors from one peer) to one line per
 * `intervalMs`; the line carries how many occurrences it stands for.
 */
export class RateLimitedLog {
  private last = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Calls `emit(count)` when a line is due, `count` being the occurrences since the last line, or
   * the sum of their `amount`s (e.g. records dropped) when given.
   */
  hit(emit: (count: number) => void, amount = 1): void {
    this.suppressed += amount;
    const t = this.now();
    if (t - this.last < this.intervalMs) return;
    this.last = t;
    const n = this.suppressed;
    this.suppressed = 0;
    emit(n);
  }
}
