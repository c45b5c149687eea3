/**
 * The demo's periodic summary: the aggregator's in-memory flow records grouped by conversation
 * (source Pod → destination Pod, Service or address:port), with flows, octets both ways, the average
 * rate of its fastest flow and what NetworkPolicies did.
 */

type FlowRecord = Record<string, unknown>;

interface Conversation {
  source: string;
  destination: string;
  flows: number;
  octets: number;
  /** Highest average rate of one flow of the conversation (octets both ways over its lifetime). */
  rateBps: number;
  flowType: number;
  verdict: string;
}

const FLOW_TYPES: Record<number, string> = { 1: 'intra-node', 2: 'inter-node', 3: 'to-external', 4: 'from-external' };

function num(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : 0;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function endpoint(ns: unknown, pod: unknown, ip: unknown, port: unknown): string {
  return str(pod) !== '' ? `${str(ns)}/${str(pod)}` : `${str(ip)}:${num(port)}`;
}

function verdict(r: FlowRecord): string {
  const names: Record<number, string> = { 1: 'allowed', 2: 'DROPPED', 3: 'REJECTED' };
  const parts: string[] = [];
  for (const dir of ['ingress', 'egress'] as const) {
    const action = num(r[`${dir}NetworkPolicyRuleAction`]);
    if (action === 0) continue;
    const name = str(r[`${dir}NetworkPolicyName`]);
    parts.push(`${names[action] ?? action} by ${dir} ${name !== '' ? `${str(r[`${dir}NetworkPolicyNamespace`])}/${name}` : 'policy'}`);
  }
  return parts.join('; ');
}

export function summarize(records: readonly FlowRecord[]): Conversation[] {
  const byKey = new Map<string, Conversation>();
  for (const r of records) {
    const v4 = 'sourceIPv4Address' in r;
    const source = endpoint(r.sourcePodNamespace, r.sourcePodName, v4 ? r.sourceIPv4Address : r.sourceIPv6Address, r.sourceTransportPort);
    const service = str(r.destinationServicePortName);
    const destination = service !== ''
      ? `service ${service} → ${str(r.destinationPodName) || 'endpoint'}`
      : endpoint(r.destinationPodNamespace, r.destinationPodName, v4 ? r.destinationIPv4Address : r.destinationIPv6Address, r.destinationTransportPort);
    const key = `${source}|${destination}|${verdict(r)}`;
    const c = byKey.get(key) ?? { source, destination, flows: 0, octets: 0, rateBps: 0, flowType: num(r.flowType), verdict: verdict(r) };
    const octets = num(r.octetTotalCount) + num(r.reverseOctetTotalCount);
    const seconds = num(r.flowEndSeconds) - num(r.flowStartSeconds);
    c.flows++;
    c.octets += octets;
    if (seconds > 0) c.rateBps = Math.max(c.rateBps, (octets * 8) / seconds);
    byKey.set(key, c);
  }
  return [...byKey.values()].sort((a, b) => b.octets - a.octets);
}

function human(n: number, unit: string): string {
  const steps = ['', 'k', 'M', 'G', 'T'];
  let i = 0;
  while (n >= 1000 && i < steps.length - 1) { n /= 1000; i++; }
  return `${n < 10 && i > 0 ? n.toFixed(1) : Math.round(n)} ${steps[i]}${unit}`;
}

export function formatSummary(conversations: readonly Conversation[]): string {
  const rows = conversations.map((c) => [c.source, c.destination, FLOW_TYPES[c.flowType] ?? String(c.flowType), String(c.flows), human(c.octets, 'B'), human(c.rateBps, 'bit/s'), c.verdict]);
  const header = ['SOURCE', 'DESTINATION', 'TYPE', 'FLOWS', 'BYTES', 'FASTEST FLOW', 'NETWORK POLICY'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
