/**
 * AggregatedFlow objects for sink tests: every one of the 69 elements set to a distinct,
 * realistic value (counters beyond 2^53, strings that need escaping where asked), built from the
 * family's element list so a flow always has exactly the fields the core produces.
 */
import { aggregatorElementNames, type FieldValue, type IpFamily } from '../../../ipfix/index.ts';
import type { AggregatedFlow } from '../../core/index.ts';
import { zeroValue } from '../../core/preprocess.ts';

/** A 64-bit value above Number.MAX_SAFE_INTEGER (2^53 + 1 + i), to catch float rounding. */
export const BIG = (i: number): bigint => 9_007_199_254_740_993n + BigInt(i);

export type FlowOverrides = Partial<Record<string, FieldValue>>;

/** The i-th sample flow of a family (distinct 5-tuple per i), with some fields overridden. */
export function sampleFlow(family: IpFamily, i = 0, overrides: FlowOverrides = {}): AggregatedFlow {
  const src = family === 4 ? `10.10.${(i >> 8) & 255}.${i & 255}` : `fd00:10:244::${(i + 1).toString(16)}`;
  const dst = family === 4 ? '10.10.1.80' : 'fd00:10:244:1::50';
  const clusterIP = family === 4 ? '10.96.0.10' : 'fd00:10:96::a';
  const f: Record<string, FieldValue> = {};
  let counter = 0;
  for (const name of aggregatorElementNames(family)) {
    const zero = zeroValue(name);
    if (typeof zero === 'bigint') f[name] = BIG(i * 100 + counter++);
    else if (typeof zero === 'string') f[name] = zero === '' ? `${name}-${i}` : zero;
    else f[name] = 0;
  }
  Object.assign(f, {
    flowStartSeconds: 1_700_000_000 + i,
    flowEndSeconds: 1_700_000_060 + i,
    flowEndSecondsFromSourceNode: 1_700_000_059 + i,
    flowEndSecondsFromDestinationNode: 1_700_000_058 + i,
    flowEndReason: 2,
    sourceTransportPort: 40_000 + (i % 20_000),
    destinationTransportPort: 5201,
    protocolIdentifier: 6,
    destinationServicePort: 5202,
    destinationServicePortName: 'antrea-test/perftest:tcp',
    ingressNetworkPolicyType: 1,
    ingressNetworkPolicyRuleAction: 1,
    egressNetworkPolicyType: 2,
    egressNetworkPolicyRuleAction: 0,
    flowType: 2,
    tcpState: 'ESTABLISHED',
    egressIP: family === 4 ? '172.18.0.1' : 'fd00:172:18::1',
    httpVals: '',
    sourcePodLabels: '{"app":"client"}',
    destinationPodLabels: '{"app":"server"}',
    clusterId: '0b7d9c2e-55b6-4a0c-9a64-6b8c3f0e1a2d',
  });
  if (family === 4) {
    Object.assign(f, { sourceIPv4Address: src, destinationIPv4Address: dst, destinationClusterIPv4: clusterIP });
  } else {
    Object.assign(f, { sourceIPv6Address: src, destinationIPv6Address: dst, destinationClusterIPv6: clusterIP });
  }
  Object.assign(f, overrides);
  const srcAddr = f[family === 4 ? 'sourceIPv4Address' : 'sourceIPv6Address'] as string;
  const dstAddr = f[family === 4 ? 'destinationIPv4Address' : 'destinationIPv6Address'] as string;
  return {
    ...f,
    family,
    flowKey: {
      sourceAddress: srcAddr,
      destinationAddress: dstAddr,
      protocol: f.protocolIdentifier as number,
      sourcePort: f.sourceTransportPort as number,
      destinationPort: f.destinationTransportPort as number,
    },
    correlationState: 'correlated',
  } as unknown as AggregatedFlow;
}
