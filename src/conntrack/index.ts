/** Public surface of the conntrack layer: sources, events, NFLOG, sysctls and the entry model. */
export { IPS } from './constants.ts';
export {
  AddressSlot,
  isDying,
  TCP_STATES,
  tcpStateName,
  type ConntrackEntry,
  type ConntrackEntryView,
  type ConntrackTuple,
  type IpFamily,
  type TcpStateName,
} from './entry.ts';
export type { ConntrackSource, ConntrackVisitor, DumpFamily, DumpOptions, DumpStats, SourceKind } from './source.ts';
export { NetlinkConntrackSource, type NetlinkSourceOptions, type NetlinkSourceTotals } from './netlink-source.ts';
export { CliConntrackSource, conntrackCliAvailable, type CliSourceOptions } from './cli-source.ts';
export { createConntrackSource, type CreatedSource, type CreateSourceOptions } from './factory.ts';
export {
  ConntrackEventListener,
  conntrackEvents,
  type ConntrackEvent,
  type ConntrackEventOptions,
  type ConntrackEventStats,
  type ConntrackEventType,
} from './events.ts';
export { NflogListener, nflogPackets, type NflogOptions, type NflogPacket, type NflogStats } from './nflog.ts';
export { enableConntrackAccounting, readConntrackCount, readConntrackMax, type SysctlOptions } from './sysctl.ts';
export { formatIP, formatIPv4, formatIPv6 } from './ip-address.ts';
export { parseIPInto } from './object-view.ts';
