/**
 * The interface every conntrack source implements (netlink dump, `conntrack` CLI fallback), and
 * the options and statistics of one dump.
 */
import type { ConntrackError } from '../errors.ts';
import type { ConntrackEntry, ConntrackEntryView } from './entry.ts';

export type SourceKind = 'netlink' | 'conntrack-cli';

/** Which address family to dump: one family, or the whole table in a single walk ("all"). */
export type DumpFamily = 'ipv4' | 'ipv6' | 'all';

export interface DumpOptions {
  /**
   * Keep only entries of this conntrack zone. Netlink asks the kernel to filter (kernel >= 6.8)
   * and always filters again in userspace, so older kernels return the same result.
   */
  zone?: number;
  /** Default "all". */
  family?: DumpFamily;
}

export interface DumpStats {
  /** Entries handed to the visitor (after the zone filter). */
  visited: number;
  /** Well-formed entries received (all zones): the table size this dump saw. */
  received: number;
  /** Messages rejected as malformed and skipped. */
  malformed: number;
  /** The last malformed-message error, if any. */
  lastError: ConntrackError | undefined;
  /** Wall time of the dump in milliseconds. */
  durationMs: number;
}

/**
 * Called once per entry with a view that is reused for the next entry: copy what you keep.
 * An exception thrown by the visitor aborts the dump (the promise rejects with it).
 */
export type ConntrackVisitor = (entry: ConntrackEntryView) => void;

export interface ConntrackSource {
  readonly kind: SourceKind;
  /** Streams every entry of the table through `visitor`. Concurrent calls are serialised. */
  dump(visitor: ConntrackVisitor, options?: DumpOptions): Promise<DumpStats>;
  /** Convenience for tests and tools: the whole table as plain objects. */
  dumpAll(options?: DumpOptions): Promise<ConntrackEntry[]>;
  /** Releases the socket; later dumps reject. */
  close(): void;
}
