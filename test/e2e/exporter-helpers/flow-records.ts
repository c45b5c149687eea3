/**
 * Flow records as `flowvis collector --output json` prints them, one JSON object per line:
 *   {"exporterAddress":"10.0.0.1","exporterPort":..,"transport":"tcp","exportTime":..,
 *    "sequenceNumber":..,"obsDomainID":..,"templateID":256,"recordIdx":0,"data":{"<ieName>":<value>,...}}
 * 64-bit counters are bare JSON integers with every digit kept; they are parsed back exactly
 * (integers beyond 2^53 are read as bigint).
 */

export type FieldValue = string | number | bigint | boolean | null;

export interface FlowRecord {
  exporterAddress: string;
  exporterPort: number;
  transport: string;
  exportTime: number;
  sequenceNumber: number;
  obsDomainID: number;
  templateID: number;
  recordIdx: number;
  data: Record<string, FieldValue>;
  /** Position in the collector's output (0-based), to order records across messages. */
  seq: number;
}

const BIG_INTEGER = /("(?:[^"\\]|\\.)*")|(-?\d{16,})(?=[,}\]\s])/g;

/** Parses one JSON line of the collector; integers of 16+ digits become bigint. */
export function parseRecordLine(line: string, seq: number): FlowRecord {
  // Quote long integers (outside strings) with a marker so that JSON.parse keeps their digits.
  const marked = line.replace(BIG_INTEGER, (m, str: string | undefined) => (str !== undefined ? m : `"\u0000big:${m}"`));
  const rec = JSON.parse(marked, (_k, v: unknown) =>
    typeof v === 'string' && v.startsWith('\u0000big:') ? BigInt(v.slice(5)) : v) as Omit<FlowRecord, 'seq'>;
  return { ...rec, seq };
}

/** A numeric field as bigint (counters), or throws when the record lacks it. */
export function big(r: FlowRecord, field: string): bigint {
  const v = r.data[field];
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new Error(`record field ${field} is not an integer: ${String(v)}`);
}

export function num(r: FlowRecord, field: string): number {
  const v = r.data[field];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new Error(`record field ${field} is not a number: ${String(v)}`);
}

export function str(r: FlowRecord, field: string): string {
  const v = r.data[field];
  if (typeof v === 'string') return v;
  throw new Error(`record field ${field} is not a string: ${String(v)}`);
}

export interface FiveTuple {
  sourceIP: string;
  destinationIP: string;
  sourceTransportPort: number;
  destinationTransportPort: number;
  /** 6 TCP, 17 UDP. */
  protocolIdentifier: number;
}

/** The record's 5-tuple (IPv4 or IPv6 elements, whichever the template has). */
export function fiveTuple(r: FlowRecord): FiveTuple {
  const d = r.data;
  return {
    sourceIP: String(d.sourceIPv4Address ?? d.sourceIPv6Address),
    destinationIP: String(d.destinationIPv4Address ?? d.destinationIPv6Address),
    sourceTransportPort: Number(d.sourceTransportPort),
    destinationTransportPort: Number(d.destinationTransportPort),
    protocolIdentifier: Number(d.protocolIdentifier),
  };
}

export function sameTuple(a: FiveTuple, b: FiveTuple): boolean {
  return a.sourceIP === b.sourceIP && a.destinationIP === b.destinationIP &&
    a.sourceTransportPort === b.sourceTransportPort && a.destinationTransportPort === b.destinationTransportPort &&
    a.protocolIdentifier === b.protocolIdentifier;
}

/** Filter: records with this 5-tuple (and, when given, this observation domain). */
export function withTuple(t: FiveTuple, obsDomainID?: number): (r: FlowRecord) => boolean {
  return (r) => (obsDomainID === undefined || r.obsDomainID === obsDomainID) && sameTuple(fiveTuple(r), t);
}

/** "10.0.0.1:40001 -> 10.0.0.2:8080/6 end=3 pkts=.." for failure messages. */
export function summarize(r: FlowRecord): string {
  const t = fiveTuple(r);
  const d = r.data;
  return `#${r.seq} od=${r.obsDomainID} tpl=${r.templateID} ${t.sourceIP}:${t.sourceTransportPort} -> ` +
    `${t.destinationIP}:${t.destinationTransportPort}/${t.protocolIdentifier} end=${String(d.flowEndReason)} ` +
    `tcp=${String(d.tcpState)} pkts=${String(d.packetTotalCount)}/${String(d.reversePacketTotalCount)} ` +
    `src=${String(d.sourcePodNamespace)}/${String(d.sourcePodName)} dst=${String(d.destinationPodNamespace)}/${String(d.destinationPodName)} ` +
    `ingress=${String(d.ingressNetworkPolicyName)}:${String(d.ingressNetworkPolicyRuleAction)}`;
}
