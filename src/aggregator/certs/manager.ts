/**
 * Keeps the aggregator's PKI current: loads it from a store at start, issues what is missing or
 * due (see planRenewal), saves it, and tells listeners (the TLS collecting process, the API
 * server) to switch to the new certificates. `check()` repeats this; `startTimer()` runs it
 * periodically. A renewal is applied only after the store accepted it, so exporters are never
 * handed a CA they cannot fetch; a failed check keeps the current PKI and is counted.
 */
import { writeFileAtomic } from './directory-store.ts';
import { applyRenewal, isEmptyPlan, planRenewal, type Pki, type PkiOptions, type RenewalPlan } from './pki.ts';
import type { PkiStore } from './store.ts';

export type RenewListener = (pki: Pki, renewed: RenewalPlan) => void;

export interface CertificateManagerOptions extends PkiOptions {
  readonly store: PkiStore;
  /** Also write the CA certificate here (e.g. for the CLI in the aggregator's Pod). */
  readonly caFile?: string;
  /** Called on failures of periodic checks (default: ignored; they are counted in `checkErrors`). */
  readonly onError?: (error: unknown) => void;
}

export class CertificateManager {
  private pki: Pki | undefined;
  private readonly listeners: RenewListener[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RenewalPlan> | undefined;
  /** Renewals applied (the initial generation included), and periodic checks that failed. */
  readonly counters = { renewals: 0, checkErrors: 0 };

  constructor(private readonly options: CertificateManagerOptions) {}

  /** The current PKI; start() must have resolved. */
  get current(): Pki {
    if (this.pki === undefined) throw new Error('CertificateManager: start() has not completed');
    return this.pki;
  }

  onRenew(listener: RenewListener): void {
    this.listeners.push(listener);
  }

  /** Loads, renews what is due, saves; resolves with what was renewed. */
  async start(): Promise<RenewalPlan> {
    return this.check();
  }

  /** Re-plans at the clock's "now" and renews what is due. Concurrent calls share one run. */
  check(): Promise<RenewalPlan> {
    this.running ??= this.runCheck().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runCheck(): Promise<RenewalPlan> {
    const existing = this.pki ?? (await this.options.store.load());
    const plan = planRenewal(existing, this.options);
    if (isEmptyPlan(plan)) {
      const first = this.pki === undefined;
      this.pki = existing as Pki;
      if (first && this.options.caFile) await writeFileAtomic(this.options.caFile, this.pki.ca.cert, 0o644);
      return plan;
    }
    const next = applyRenewal(existing, plan, this.options);
    await this.options.store.save(next);
    if (this.options.caFile) await writeFileAtomic(this.options.caFile, next.ca.cert, 0o644);
    const hadPki = this.pki !== undefined;
    this.pki = next;
    this.counters.renewals++;
    if (hadPki) for (const l of this.listeners) l(next, plan);
    return plan;
  }

  /** Checks every `intervalMs` (default one hour); the timer does not keep the process alive. */
  startTimer(intervalMs = 3_600_000): void {
    this.stopTimer();
    this.timer = setInterval(() => {
      this.check().catch((e: unknown) => {
        this.counters.checkErrors++;
        this.options.onError?.(e);
      });
    }, intervalMs);
    this.timer.unref();
  }

  stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
