/**
 * Time for the transport layer: a clock and one-shot timers behind one small interface, so that
 * reconnect backoff, flush intervals, template refresh and session expiry are tested without
 * sleeping (ManualTimers) and run on the event loop in production (realTimers).
 */

/** Cancels a timer; calling it after the timer fired or twice is harmless. */
export type CancelTimer = () => void;

export interface Timers {
  /** Milliseconds (any epoch; only differences matter). */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): CancelTimer;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/** Timers driven by hand: `advance(ms)` runs, in order, every timer that falls due. */
export class ManualTimers implements Timers {
  private time: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): CancelTimer {
    const entry: Pending = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.pending.push(entry);
    return () => {
      const i = this.pending.indexOf(entry);
      if (i >= 0) this.pending.splice(i, 1);
    };
  }

  /** Moves the clock forward, firing due timers (including ones they schedule) in time order. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.pending) {
        if (p.at <= target && (!next || p.at < next.at || (p.at === next.at && p.seq < next.seq))) next = p;
      }
      if (!next) break;
      this.pending.splice(this.pending.indexOf(next), 1);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = target;
  }

  /** Delays (from now) of the timers still pending, soonest first. */
  get pendingDelays(): number[] {
    return this.pending.map((p) => p.at - this.time).sort((a, b) => a - b);
  }
}
