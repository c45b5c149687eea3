/** Where the aggregator keeps its PKI between restarts. */
import type { Pki } from './pki.ts';

export interface PkiStore {
  /** For logs: "directory /var/run/flowvis/pki", "Kubernetes namespace flow-aggregator". */
  readonly description: string;
  /** Whatever parts exist (a part whose certificate or key is missing is left out). */
  load(): Promise<Partial<Pki>>;
  /** Stores (and publishes) the complete PKI. */
  save(pki: Pki): Promise<void>;
}
