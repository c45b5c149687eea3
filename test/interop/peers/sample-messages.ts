/**
 * The messages the interop tests hand to real peers: Antrea's agent templates (IPv4 256, IPv6 257)
 * with realistic records, the aggregator template (69 IEs), a template of reduced-size integers,
 * long strings (3-octet length prefix), IPv6, MAC, ms/µs times, float, boolean and raw octets, two
 * templates in one template set, an options template, four data sets in one message, and a
 * template withdrawal. `sampleMessages()` returns the encoded messages together with what each
 * one carries, in wire order, so a test can compare a peer's view with what was written.
 */
import {
  agentTemplate, aggregatorTemplate, buildTemplate, FlowEndReason, FlowType, MessageWriter, PolicyType, RuleAction,
  type FieldValue, type Template,
} from '../../../src/ipfix/index.ts';

export const EXPORT_TIME = 1_763_000_000;
export const OBSERVATION_DOMAIN = 0x5eed1234;

/** Values in template order from a record given by element name (missing names are zero / empty). */
export function valuesFor(t: Template, record: Record<string, FieldValue>): FieldValue[] {
  for (const name of Object.keys(record)) if (t.indexOf(name) < 0) throw new Error(`template ${t.id} has no ${name}`);
  return t.names.map((n) => record[n]);
}

/** Realistic Antrea agent records: intra-node, inter-node through a Service, to external, denied. */
export function agentRecords(family: 4 | 6): Array<Record<string, FieldValue>> {
  const v4 = family === 4;
  const ip = (a: string, b: string): string => (v4 ? a : b);
  const src = v4 ? 'sourceIPv4Address' : 'sourceIPv6Address';
  const dst = v4 ? 'destinationIPv4Address' : 'destinationIPv6Address';
  const clusterIp = v4 ? 'destinationClusterIPv4' : 'destinationClusterIPv6';
  const common = { sourcePodNamespace: 'shop', sourceNodeName: 'k8s-worker-1' };
  return [
    {
      ...common, flowStartSeconds: EXPORT_TIME - 125, flowEndSeconds: EXPORT_TIME - 5, flowEndReason: FlowEndReason.activeTimeout,
      sourceTransportPort: 43512, destinationTransportPort: 8080, protocolIdentifier: 6,
      packetTotalCount: 1_234_567n, octetTotalCount: 6_000_000_123n, packetDeltaCount: 4_321n, octetDeltaCount: 5_123_456n,
      [src]: ip('10.244.1.17', 'fd00:10:244:1::11'), [dst]: ip('10.244.2.33', 'fd00:10:244:2::21'),
      reversePacketTotalCount: 1_100_000n, reverseOctetTotalCount: 98_765_432_109n, reversePacketDeltaCount: 3_999n, reverseOctetDeltaCount: 4_000_001n,
      sourcePodName: 'frontend-7d9f8c6b5-x2x9q', destinationPodName: 'backend-api-5c8d7b9f4-kq7wz', destinationPodNamespace: 'shop',
      destinationNodeName: 'k8s-worker-2', destinationServicePort: 8080, destinationServicePortName: 'shop/backend-api:http',
      ingressNetworkPolicyName: 'allow-frontend', ingressNetworkPolicyNamespace: 'shop', ingressNetworkPolicyType: PolicyType.k8sNetworkPolicy,
      ingressNetworkPolicyRuleName: 'ingress-0', ingressNetworkPolicyRuleAction: RuleAction.allow,
      egressNetworkPolicyName: 'acnp-egress-audit', egressNetworkPolicyNamespace: '', egressNetworkPolicyType: PolicyType.antreaClusterNetworkPolicy,
      egressNetworkPolicyRuleName: 'audit-all', egressNetworkPolicyRuleAction: RuleAction.allow,
      tcpState: 'ESTABLISHED', flowType: FlowType.interNode, egressName: '', egressIP: '', appProtocolName: 'http',
      httpVals: '{"0":{"hostname":"backend-api","url":"/api/v1/cart","http_user_agent":"curl/8.5.0","http_content_type":"application/json","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":512}}',
      egressNodeName: '', [clusterIp]: ip('10.96.45.7', 'fd00:10:96::2d07'),
    },
    {
      ...common, flowStartSeconds: EXPORT_TIME - 3, flowEndSeconds: EXPORT_TIME - 1, flowEndReason: FlowEndReason.endOfFlow,
      sourceTransportPort: 53001, destinationTransportPort: 53, protocolIdentifier: 17,
      packetTotalCount: 2n, octetTotalCount: 148n, packetDeltaCount: 2n, octetDeltaCount: 148n,
      [src]: ip('10.244.1.17', 'fd00:10:244:1::11'), [dst]: ip('10.244.1.2', 'fd00:10:244:1::2'),
      reversePacketTotalCount: 2n, reverseOctetTotalCount: 276n, reversePacketDeltaCount: 2n, reverseOctetDeltaCount: 276n,
      sourcePodName: 'frontend-7d9f8c6b5-x2x9q', destinationPodName: 'coredns-5d78c9869d-8hq4n', destinationPodNamespace: 'kube-system',
      destinationNodeName: 'k8s-worker-1', destinationServicePort: 53, destinationServicePortName: 'kube-system/kube-dns:dns',
      ingressNetworkPolicyName: '', ingressNetworkPolicyNamespace: '', ingressNetworkPolicyType: PolicyType.unspecified,
      ingressNetworkPolicyRuleName: '', ingressNetworkPolicyRuleAction: RuleAction.noAction,
      egressNetworkPolicyName: '', egressNetworkPolicyNamespace: '', egressNetworkPolicyType: PolicyType.unspecified,
      egressNetworkPolicyRuleName: '', egressNetworkPolicyRuleAction: RuleAction.noAction,
      tcpState: '', flowType: FlowType.intraNode, egressName: '', egressIP: '', appProtocolName: '', httpVals: '', egressNodeName: '',
      [clusterIp]: ip('10.96.0.10', 'fd00:10:96::a'),
    },
    {
      ...common, flowStartSeconds: EXPORT_TIME - 60, flowEndSeconds: EXPORT_TIME, flowEndReason: FlowEndReason.idleTimeout,
      sourceTransportPort: 38022, destinationTransportPort: 443, protocolIdentifier: 6,
      // Counters beyond 2^53: only exact as bigint.
      packetTotalCount: 9_007_199_254_740_993n, octetTotalCount: 18_446_744_073_709_551_615n, packetDeltaCount: 1n, octetDeltaCount: 60n,
      [src]: ip('10.244.1.18', 'fd00:10:244:1::12'), [dst]: ip('93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'),
      reversePacketTotalCount: 0n, reverseOctetTotalCount: 0n, reversePacketDeltaCount: 0n, reverseOctetDeltaCount: 0n,
      sourcePodName: 'payments-6b8f9d7c4-abcde', destinationPodName: '', destinationPodNamespace: '', destinationNodeName: '',
      destinationServicePort: 0, destinationServicePortName: '',
      ingressNetworkPolicyName: '', ingressNetworkPolicyNamespace: '', ingressNetworkPolicyType: PolicyType.unspecified,
      ingressNetworkPolicyRuleName: '', ingressNetworkPolicyRuleAction: RuleAction.noAction,
      egressNetworkPolicyName: 'deny-external', egressNetworkPolicyNamespace: 'shop', egressNetworkPolicyType: PolicyType.antreaNetworkPolicy,
      egressNetworkPolicyRuleName: 'drop-internet', egressNetworkPolicyRuleAction: RuleAction.drop,
      tcpState: 'SYN_SENT', flowType: FlowType.toExternal, egressName: 'egress-prod', egressIP: ip('172.18.0.100', 'fd00:172:18::64'),
      appProtocolName: '', httpVals: '', egressNodeName: 'k8s-worker-3', [clusterIp]: ip('0.0.0.0', '::'),
    },
  ];
}

/** One aggregator (69-IE) record: the agent's fields plus per-node counters, throughput, labels. */
function aggregatorRecord(t: Template): FieldValue[] {
  const base = agentRecords(4)[0];
  const extra: Record<string, FieldValue> = {
    flowEndSecondsFromSourceNode: EXPORT_TIME - 5, flowEndSecondsFromDestinationNode: EXPORT_TIME - 4,
    throughput: 341_564n, reverseThroughput: 266_667n, throughputFromSourceNode: 341_564n, throughputFromDestinationNode: 341_000n,
    reverseThroughputFromSourceNode: 266_000n, reverseThroughputFromDestinationNode: 266_667n,
    sourcePodLabels: '{"app":"frontend","pod-template-hash":"7d9f8c6b5"}', destinationPodLabels: '{"app":"backend-api"}',
    clusterId: '8b5c3f2e-1d4a-4b7e-9c2f-5a6d7e8f9012',
  };
  let k = 1n;
  for (const name of t.names) if (/CountFrom(Source|Destination)Node$/.test(name)) extra[name] = 1000n * k++;
  return valuesFor(t, { ...base, ...extra });
}

/** A template of reduced-size integers, long strings, IPv6, MAC, ms/µs/ns times, float, boolean, raw octets. */
export const mixedTemplate = buildTemplate(300, [
  { name: 'octetDeltaCount', length: 4 }, { name: 'packetDeltaCount', length: 2 }, { name: 'tcpControlBits', length: 1 },
  'sourceTransportPort', { name: 'bgpSourceAsNumber', length: 3 }, 'sourceIPv6Address', 'destinationIPv6Address', 'sourceMacAddress',
  'flowStartMilliseconds', 'flowStartMicroseconds', 'interfaceDescription', 'applicationName', 'vlanId', 'dataRecordsReliability',
  { name: 'samplingProbability', length: 4 }, 'absoluteError', 'mplsTopLabelStackSection', { name: 'interfaceName', length: 8 },
  { name: 'reverseOctetDeltaCount', length: 4 }, { name: 'reverseTcpControlBits', length: 1 },
  'sourcePodName', 'flowType', 'destinationServicePort', 'ingressNetworkPolicyRulePriority', { name: 'throughput', length: 4 },
]);
export const smallTemplate = buildTemplate(301, ['sourceIPv4Address', 'destinationIPv4Address', { name: 'octetTotalCount', length: 2 }, 'protocolIdentifier', 'flowEndReason']);
export const optionsTemplate = buildTemplate(400, ['exportingProcessId', 'meteringProcessId', 'systemInitTimeMilliseconds', 'observationDomainName'], { scopeFieldCount: 1 });
export const nanosTemplate = buildTemplate(302, ['flowStartNanoseconds', 'flowEndNanoseconds']);

export const LONG_UTF8 = 'é'.repeat(150) + 'x'.repeat(10); // 310 octets: 3-octet length prefix
export const mixedRecords: FieldValue[][] = [
  [4_000_000_000, 65_000, 0x1b, 443, 0xabcdef, 'fd00::1', '2001:db8::ff:1', 'aa:bb:cc:dd:ee:0f', 1_763_000_000_123, 1_763_000_000_123_456_000n,
    LONG_UTF8, 'http', 100, true, 0.25, 1.5, new Uint8Array([0x01, 0x02, 0x03]), 'eth0', 123_456, 0x12,
    'frontend-7d9f8c6b5-x2x9q', FlowType.interNode, 8080, -5, 4_000_000_000n],
  [1, 1, 0x02, 80, 1, '::', '::1', '02:42:ac:11:00:02', 1_763_000_000_000, 1_763_000_000_000_001_000n,
    'y'.repeat(300), '', 0, false, 0, 0, new Uint8Array(0), '', 0, 0,
    '', FlowType.unspecified, 0, 2_147_483_647, 0n],
  // Exactly 254 and 255 octets: the last one-octet length and the first three-octet length.
  [7, 7, 0x10, 7, 7, 'fe80::1', 'ff02::1', 'ff:ff:ff:ff:ff:ff', 1_763_000_000_999, 1_763_000_000_999_999_000n,
    'a'.repeat(254), 'b'.repeat(255), 4094, true, 1, -2.75, new Uint8Array([0x00, 0x01, 0x41]), 'bond0.12', 1, 0x3f,
    'z'.repeat(253), FlowType.fromExternal, 65535, -2_147_483_648, 12_345n],
];
export const smallRecords: FieldValue[][] = [
  ['10.0.0.1', '10.0.0.2', 1500, 6, FlowEndReason.forcedEnd],
  ['192.168.255.254', '255.255.255.255', 65535, 17, FlowEndReason.lackOfResources],
];
export const optionsRecord: FieldValue[] = [42, 43, 1_762_999_000_999, 'node k8s-worker-1'];

export type Written = { kind: 'template'; template: Template } | { kind: 'withdrawal'; id: number } | { kind: 'record'; template: Template; values: FieldValue[] };

/** Writes the sample messages and returns them with what each carries, in order. */
export function sampleMessages(): { messages: Buffer[]; written: Written[][] } {
  const w = new MessageWriter({ observationDomainId: OBSERVATION_DOMAIN, maxMessageSize: 1400, clock: () => EXPORT_TIME });
  const written: Written[][] = [];
  let current: Written[] = [];
  const flush = (): void => {
    w.flush();
    if (current.length) written.push(current);
    current = [];
  };
  const template = (t: Template): void => { w.addTemplate(t); current.push({ kind: 'template', template: t }); };
  const record = (t: Template, values: FieldValue[]): void => {
    const before = w.pendingMessages;
    w.addRecord(t, values);
    // A record that did not fit closed the message before it: it opens the next one.
    if (w.pendingMessages > before) { written.push(current); current = []; }
    current.push({ kind: 'record', template: t, values });
  };

  // 1. Antrea agent templates (IPv4 256 and IPv6 257 in one template set) and their records.
  const a4 = agentTemplate(4);
  const a6 = agentTemplate(6);
  template(a4);
  template(a6);
  for (const r of agentRecords(4)) record(a4, valuesFor(a4, r));
  for (const r of agentRecords(6)) record(a6, valuesFor(a6, r));
  flush();
  // 2. The aggregator template (69 IEs).
  const g4 = aggregatorTemplate(4, 258);
  template(g4);
  record(g4, aggregatorRecord(g4));
  flush();
  // 3. Two templates in one template set, an options template, and four data sets in one message.
  template(mixedTemplate);
  template(smallTemplate);
  template(optionsTemplate);
  record(mixedTemplate, mixedRecords[0]);
  record(smallTemplate, smallRecords[0]);
  record(smallTemplate, smallRecords[1]);
  record(mixedTemplate, mixedRecords[1]);
  record(optionsTemplate, optionsRecord);
  flush();
  record(mixedTemplate, mixedRecords[2]);
  flush();
  // 4. Template withdrawal.
  w.withdrawTemplate(smallTemplate.id);
  current.push({ kind: 'withdrawal', id: smallTemplate.id });
  flush();
  const messages = w.drain();
  return { messages, written };
}

