/**
 * From the aggregator's AggregatedFlow to the storage sinks' FlowRow (the `flows` table row), and
 * the adapter that puts a storage FlowSink (write(rows)) behind the aggregator's Sink interface.
 *
 * Mapping (as Antrea v2.3's flowrecord.GetFlowRecord and ClickHouse exporter):
 *   sourceIP / destinationIP   sourceIPv4Address|sourceIPv6Address, destinationIPv4Address|...IPv6...
 *   destinationClusterIP       destinationClusterIPv4|IPv6 when the flow is to a Service
 *                              (destinationServicePortName != ""), else "0.0.0.0" / "::"
 *   clusterUUID                the cluster UUID given here (not the flow's clusterId)
 *   trusted                    0
 *   every other column         the element of the same name
 */
import type { AggregatedFlow } from '../core/index.ts';
import { silentSinkLogger, type FlowRow, type FlowSink, type SinkLogger, type StoredFlowRow } from './flow-row.ts';
import type { Sink, SinkStats } from './sink.ts';

/** Builds the table row of a flow; with `timeInserted` (unix seconds) the stored row. */
export function toFlowRow(flow: AggregatedFlow, clusterUUID: string): FlowRow;
export function toFlowRow(flow: AggregatedFlow, clusterUUID: string, timeInserted: number): StoredFlowRow;
export function toFlowRow(flow: AggregatedFlow, clusterUUID: string, timeInserted?: number): FlowRow | StoredFlowRow {
  let sourceIP: string;
  let destinationIP: string;
  let clusterIP: string;
  if (flow.family === 4) {
    sourceIP = flow.sourceIPv4Address;
    destinationIP = flow.destinationIPv4Address;
    clusterIP = flow.destinationServicePortName !== '' ? flow.destinationClusterIPv4 : '0.0.0.0';
  } else {
    sourceIP = flow.sourceIPv6Address;
    destinationIP = flow.destinationIPv6Address;
    clusterIP = flow.destinationServicePortName !== '' ? flow.destinationClusterIPv6 : '::';
  }
  // One object literal in table order: every row gets the same shape.
  const row: FlowRow = {
    flowStartSeconds: flow.flowStartSeconds,
    flowEndSeconds: flow.flowEndSeconds,
    flowEndSecondsFromSourceNode: flow.flowEndSecondsFromSourceNode,
    flowEndSecondsFromDestinationNode: flow.flowEndSecondsFromDestinationNode,
    flowEndReason: flow.flowEndReason,
    sourceIP,
    destinationIP,
    sourceTransportPort: flow.sourceTransportPort,
    destinationTransportPort: flow.destinationTransportPort,
    protocolIdentifier: flow.protocolIdentifier,
    packetTotalCount: flow.packetTotalCount,
    octetTotalCount: flow.octetTotalCount,
    packetDeltaCount: flow.packetDeltaCount,
    octetDeltaCount: flow.octetDeltaCount,
    reversePacketTotalCount: flow.reversePacketTotalCount,
    reverseOctetTotalCount: flow.reverseOctetTotalCount,
    reversePacketDeltaCount: flow.reversePacketDeltaCount,
    reverseOctetDeltaCount: flow.reverseOctetDeltaCount,
    sourcePodName: flow.sourcePodName,
    sourcePodNamespace: flow.sourcePodNamespace,
    sourceNodeName: flow.sourceNodeName,
    destinationPodName: flow.destinationPodName,
    destinationPodNamespace: flow.destinationPodNamespace,
    destinationNodeName: flow.destinationNodeName,
    destinationClusterIP: clusterIP,
    destinationServicePort: flow.destinationServicePort,
    destinationServicePortName: flow.destinationServicePortName,
    ingressNetworkPolicyName: flow.ingressNetworkPolicyName,
    ingressNetworkPolicyNamespace: flow.ingressNetworkPolicyNamespace,
    ingressNetworkPolicyRuleName: flow.ingressNetworkPolicyRuleName,
    ingressNetworkPolicyRuleAction: flow.ingressNetworkPolicyRuleAction,
    ingressNetworkPolicyType: flow.ingressNetworkPolicyType,
    egressNetworkPolicyName: flow.egressNetworkPolicyName,
    egressNetworkPolicyNamespace: flow.egressNetworkPolicyNamespace,
    egressNetworkPolicyRuleName: flow.egressNetworkPolicyRuleName,
    egressNetworkPolicyRuleAction: flow.egressNetworkPolicyRuleAction,
    egressNetworkPolicyType: flow.egressNetworkPolicyType,
    tcpState: flow.tcpState,
    flowType: flow.flowType,
    sourcePodLabels: flow.sourcePodLabels,
    destinationPodLabels: flow.destinationPodLabels,
    throughput: flow.throughput,
    reverseThroughput: flow.reverseThroughput,
    throughputFromSourceNode: flow.throughputFromSourceNode,
    throughputFromDestinationNode: flow.throughputFromDestinationNode,
    reverseThroughputFromSourceNode: flow.reverseThroughputFromSourceNode,
    reverseThroughputFromDestinationNode: flow.reverseThroughputFromDestinationNode,
    clusterUUID,
    egressName: flow.egressName,
    egressIP: flow.egressIP,
    appProtocolName: flow.appProtocolName,
    httpVals: flow.httpVals,
    egressNodeName: flow.egressNodeName,
    trusted: 0,
  };
  return timeInserted === undefined ? row : { timeInserted, ...row };
}

export interface StorageSinkAdapterOptions {
  /** Written to every row's clusterUUID column. */
  clusterUUID: string;
  /** Rows handed to the store per write() (default 1000); smaller batches leave on the next turn of the event loop. */
  maxBatch?: number;
  logger?: SinkLogger;
}

/**
 * Wraps a storage FlowSink (ClickHouse, embedded store) as an aggregator Sink. offer() only
 * collects the flow; on the next turn of the event loop (or as soon as maxBatch flows are waiting)
 * they are converted to rows and handed to the store's write() in one batch. The store keeps its
 * own bounded queue and commits on its own schedule; its counters are reported through stats().
 */
export class StorageSinkAdapter implements Sink {
  readonly name: string;
  private readonly clusterUUID: string;
  private readonly maxBatch: number;
  private readonly log: SinkLogger;
  private pending: AggregatedFlow[] = [];
  private scheduled = false;
  private closed = false;
  private ownDropped = 0;
  private ownFailures = 0;
  private ownLastError: string | undefined;

  constructor(readonly storage: FlowSink, options: StorageSinkAdapterOptions) {
    this.name = storage.name;
    this.clusterUUID = options.clusterUUID;
    this.maxBatch = options.maxBatch ?? 1000;
    this.log = options.logger ?? silentSinkLogger;
  }

  offer(flow: AggregatedFlow): void {
    if (this.closed) {
      this.ownDropped++;
      return;
    }
    this.pending.push(flow);
    if (this.pending.length >= this.maxBatch) {
      this.writePending();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.writePending();
      });
    }
  }

  async flush(): Promise<void> {
    this.writePending();
    await this.storage.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.writePending();
    this.closed = true;
    await this.storage.close();
  }

  stats(): SinkStats {
    const s = this.storage.stats();
    const lastError = s.lastError ?? this.ownLastError;
    return {
      queued: this.pending.length + s.queued,
      sent: s.written,
      dropped: s.dropped + this.ownDropped,
      failures: s.failures + this.ownFailures,
      ...(lastError !== undefined ? { lastError } : {}),
    };
  }

  private writePending(): void {
    if (this.pending.length === 0) return;
    const flows = this.pending;
    this.pending = [];
    try {
      const rows = new Array<FlowRow>(flows.length);
      for (let i = 0; i < flows.length; i++) rows[i] = toFlowRow(flows[i], this.clusterUUID);
      this.storage.write(rows);
    } catch (e) {
      // write() is specified not to throw; a store that does anyway loses this batch, counted.
      this.ownFailures++;
      this.ownDropped += flows.length;
      this.ownLastError = e instanceof Error ? e.message : String(e);
      this.log.error({ sink: this.name, err: e, dropped: flows.length }, 'storage sink rejected a batch of rows');
    }
  }
}
