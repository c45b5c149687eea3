/**
 * Exponential reconnect backoff: initial delay, doubled (× `multiplier`) after every failed
 * attempt up to `maxMs`, back to the initial delay after a successful connection.
 */
export interface BackoffOptions {
  /** First delay in ms (default 1000). */
  initialMs?: number;
  /** Cap in ms (default 30000, as Antrea's exporter). */
  maxMs?: number;
  /** Growth factor (default 2). */
  multiplier?: number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  private nextMs: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 1000;
    this.maxMs = options.maxMs ?? 30_000;
    this.multiplier = options.multiplier ?? 2;
    if (!(this.initialMs >= 0) || !(this.maxMs >= this.initialMs) || !(this.multiplier >= 1)) {
      throw new RangeError(`bad backoff: initial ${this.initialMs} ms, cap ${this.maxMs} ms, multiplier ${this.multiplier}`);
    }
    this.nextMs = this.initialMs;
  }

  /** The delay before the next attempt; each call grows the following one. */
  next(): number {
    const d = this.nextMs;
    this.nextMs = Math.min(this.maxMs, Math.max(1, this.nextMs) * this.multiplier);
    return d;
  }

  reset(): void {
    this.nextMs = this.initialMs;
  }
}
