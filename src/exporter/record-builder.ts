/**
 * Turns exported connections into the values of Antrea's agent template (42 elements, in the
 * order of agentElementNames). Built from the same name list as the template itself, so the
 * record can never drift from the template (upstream bug class #8228).
 */
import { agentElementNames, type FieldValue } from '../ipfix/index.ts';
import type { Connection } from './connection.ts';

type Getter = (c: Connection) => FieldValue;

const zeroAddress = (family: 4 | 6): string => (family === 4 ? '0.0.0.0' : '::');

const GETTERS: Readonly<Record<string, Getter>> = {
  flowStartSeconds: (c) => c.flowStartSeconds,
  flowEndSeconds: (c) => c.flowEndSeconds,
  flowEndReason: (c) => c.flowEndReason,
  sourceTransportPort: (c) => c.sourceTransportPort,
  destinationTransportPort: (c) => c.destinationTransportPort,
  protocolIdentifier: (c) => c.protocolIdentifier,
  packetTotalCount: (c) => c.packetTotalCount,
  octetTotalCount: (c) => c.octetTotalCount,
  packetDeltaCount: (c) => c.packetDeltaCount,
  octetDeltaCount: (c) => c.octetDeltaCount,
  sourceIPv4Address: (c) => c.sourceIP,
  sourceIPv6Address: (c) => c.sourceIP,
  destinationIPv4Address: (c) => c.destinationIP,
  destinationIPv6Address: (c) => c.destinationIP,
  reversePacketTotalCount: (c) => c.reversePacketTotalCount,
  reverseOctetTotalCount: (c) => c.reverseOctetTotalCount,
  reversePacketDeltaCount: (c) => c.reversePacketDeltaCount,
  reverseOctetDeltaCount: (c) => c.reverseOctetDeltaCount,
  tcpState: (c) => c.tcpState,
  // Antrea sends 0.0.0.0 / :: when the connection did not go through a Service.
  destinationClusterIPv4: (c) => c.destinationClusterIP || zeroAddress(4),
  destinationClusterIPv6: (c) => c.destinationClusterIP || zeroAddress(6),
  // Not produced by a generic CNI: sent empty, as Antrea v2.3 does without L7 export.
  appProtocolName: () => '',
  httpVals: () => '',
};

function contextGetter(name: string): Getter {
  return (c) => (c.context as unknown as Record<string, FieldValue>)[name];
}

function compile(family: 4 | 6): (c: Connection) => FieldValue[] {
  const getters = agentElementNames(family).map((name) => GETTERS[name] ?? contextGetter(name));
  return (c) => getters.map((g) => g(c));
}

const builders = { 4: compile(4), 6: compile(6) } as const;

/** Values of the agent template of the connection's address family. */
export function agentRecordValues(c: Connection): FieldValue[] {
  return builders[c.family](c);
}
