import type { DecodedMessage } from '../ipfix/index.ts';
import type { SequenceTracker } from './sequence-tracker.ts';

/** Counters of a collecting process. Plain numbers: they are process statistics, not IPFIX values. */
export class CollectorStats {
  /** Transport sessions open now (TCP/TLS connections, UDP exporter address:port pairs). */
  sessionsCurrent = 0;
  sessionsTotal = 0;
  /** Messages with a usable header, and their octets. */
  messages = 0;
  bytes = 0;
  /** Data records decoded (options data records included). */
  records = 0;
  /** Template and options template records received. */
  templates = 0;
  /** Data sets that referred to a template the session did not know. */
  unknownTemplateSets = 0;
  /** Records missing according to sequence numbers (RFC 7011 §10.3.2). */
  recordsLost = 0;
  /** Messages whose sequence number lies behind the expected one (reordered, duplicated, exporter restart). */
  sequenceOutOfOrder = 0;
  /** TCP/TLS streams closed because message framing was lost. */
  framingErrors = 0;
  tlsHandshakeFailures = 0;
  /** Connections refused: failed TLS handshakes and connections beyond the session limit. */
  rejectedConnections = 0;
  /** UDP: records and messages dropped because the consumer fell behind (queue full). */
  recordsDropped = 0;
  messagesDropped = 0;
  /** TCP/TLS: times a connection was paused because the consumer fell behind. */
  backpressurePauses = 0;
  /** Decode errors by IpfixError code. */
  readonly decodeErrors = new Map<string, number>();

  countError(code: string): void {
    this.decodeErrors.set(code, (this.decodeErrors.get(code) ?? 0) + 1);
  }

  get decodeErrorsTotal(): number {
    let n = 0;
    for (const v of this.decodeErrors.values()) n += v;
    return n;
  }

  /** A plain-object copy (decode errors as a code → count object). */
  snapshot(): Omit<CollectorStatsSnapshot, never> {
    return {
      sessionsCurrent: this.sessionsCurrent, sessionsTotal: this.sessionsTotal, messages: this.messages,
      bytes: this.bytes, records: this.records, templates: this.templates, unknownTemplateSets: this.unknownTemplateSets,
      recordsLost: this.recordsLost, sequenceOutOfOrder: this.sequenceOutOfOrder, framingErrors: this.framingErrors,
      tlsHandshakeFailures: this.tlsHandshakeFailures, rejectedConnections: this.rejectedConnections,
      recordsDropped: this.recordsDropped, messagesDropped: this.messagesDropped, backpressurePauses: this.backpressurePauses,
      decodeErrors: Object.fromEntries(this.decodeErrors),
    };
  }
}

export interface CollectorStatsSnapshot {
  sessionsCurrent: number; sessionsTotal: number; messages: number; bytes: number; records: number; templates: number;
  unknownTemplateSets: number; recordsLost: number; sequenceOutOfOrder: number; framingErrors: number;
  tlsHandshakeFailures: number; rejectedConnections: number; recordsDropped: number; messagesDropped: number;
  backpressurePauses: number; decodeErrors: Record<string, number>;
}

/**
 * Counts a decoded message of a session into `stats`: its decode errors by code and, when it had a
 * usable header, the message, its octets, records, templates, data sets of unknown templates and
 * the records its sequence number says were lost. Returns false when there was no usable header.
 */
export function countDecodedMessage(stats: CollectorStats, sequence: SequenceTracker, m: DecodedMessage): boolean {
  const errors = m.errors;
  for (let i = 0; i < errors.length; i++) stats.countError(errors[i].code);
  const header = m.header;
  if (!header) return false;
  stats.messages++;
  stats.bytes += header.length;
  stats.records += m.records.length;
  stats.templates += m.templates.length;
  stats.unknownTemplateSets += m.unknownTemplateSets;
  // Records of this message's own header (held data sets of earlier messages may come along).
  let own = m.records.length;
  if (own > 0 && m.records[0].header !== header) {
    own = 0;
    for (const r of m.records) if (r.header === header) own++;
  }
  // With data sets skipped or errors, the message's record count is unknown: resynchronise.
  const verdict = sequence.observe(header.observationDomainId, header.sequenceNumber, m.unknownTemplateSets > 0 || errors.length > 0 ? -1 : own);
  if (verdict.lost > 0) stats.recordsLost += verdict.lost;
  else if (verdict.outOfOrder) stats.sequenceOutOfOrder++;
  return true;
}
