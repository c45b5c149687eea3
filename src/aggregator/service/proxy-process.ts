/**
 * Proxy mode (upstream v2.3+): the aggregator keeps no state. Each record an agent sends is brought
 * to the agent layout (any agent version, as in aggregate mode), completed and forwarded at once in
 * the 49-element proxy template (src/ipfix/antrea-templates.ts): the 42 agent elements, Pod labels
 * (with recordContents.podLabels), clusterId, the observation domain and address of the agent that
 * sent it, and flowDirection as seen by that agent's Node:
 *
 *   inter-Node, only the source Pod named       → egress (1)    (the source Node's record)
 *   inter-Node, only the destination Pod named  → ingress (0)   (the destination Node's record)
 *   to-external with the source Pod named       → egress (1)
 *   from-external with the destination Pod named→ ingress (0)
 *   anything else (intra-Node above all)        → unknown (0xff)
 *
 * For inter-Node records the end the agent could not name is looked up by address at the flow's
 * start, as upstream does. Aggregation, correlation and the storage sinks are aggregate-mode only.
 */
import { IpfixError } from '../../errors.ts';
import type { DataRecord, FieldValue, IpFamily } from '../../ipfix/index.ts';
import type { MetadataView } from '../../k8s/metadata-source.ts';
import { Preprocessor } from '../core/index.ts';
import { A } from '../core/layout.ts';
import type { SinkStats } from '../sinks/sink.ts';

export const FLOW_DIRECTION = { ingress: 0, egress: 1, unknown: 0xff } as const;
const FLOW_TYPE = { intraNode: 1, interNode: 2, toExternal: 3, fromExternal: 4 } as const;

/** A record ready for the proxy template of its family. */
export interface ProxiedRecord {
  readonly family: IpFamily;
  readonly values: FieldValue[];
}

/** Where Proxy mode sends records: flowCollector's IPFIX sink, or its JSON sink. */
export interface ProxySink {
  readonly name: string;
  offer(record: ProxiedRecord): void;
  stats(): SinkStats;
  close(): Promise<void>;
}

/** Where a record came from. */
export interface RecordOrigin {
  /** The agent's address (IPv4 or IPv6) as the collecting process saw it. */
  readonly exporterAddress: string;
  readonly observationDomainId: number;
}

export interface ProxyProcessOptions {
  /** Receives every forwarded record, in arrival order. */
  readonly sink: (record: ProxiedRecord) => void;
  readonly clusterId: string;
  readonly metadata?: MetadataView;
  /** recordContents.podLabels: fill sourcePodLabels / destinationPodLabels. */
  readonly podLabels: boolean;
}

export interface ProxyStats {
  recordsReceived: number;
  recordsForwarded: number;
  /** Records that could not be brought to the agent layout (no flow key). */
  recordsDropped: number;
}

/** The direction of a record as its Node saw it (see the header). */
export function flowDirection(flowType: number, sourcePodName: string, destinationPodName: string): number {
  const src = sourcePodName !== '';
  const dst = destinationPodName !== '';
  if (flowType === FLOW_TYPE.interNode && src && !dst) return FLOW_DIRECTION.egress;
  if (flowType === FLOW_TYPE.interNode && !src && dst) return FLOW_DIRECTION.ingress;
  if (flowType === FLOW_TYPE.toExternal && src) return FLOW_DIRECTION.egress;
  if (flowType === FLOW_TYPE.fromExternal && dst) return FLOW_DIRECTION.ingress;
  return FLOW_DIRECTION.unknown;
}

/** Labels as JSON with sorted keys (as aggregate mode writes them). */
function labelsJson(labels: Readonly<Record<string, string>>): string {
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) sorted[k] = labels[k] as string;
  return JSON.stringify(sorted);
}

export class ProxyProcess {
  private readonly preprocessor = new Preprocessor();
  readonly counters: ProxyStats = { recordsReceived: 0, recordsForwarded: 0, recordsDropped: 0 };

  constructor(private readonly opts: ProxyProcessOptions) {}

  /** Forwards one record; returns the IpfixError it was dropped with, or null. */
  ingest(record: DataRecord, origin: RecordOrigin): IpfixError | null {
    this.counters.recordsReceived++;
    const r = this.preprocessor.normalize(record);
    if (r instanceof IpfixError) {
      this.counters.recordsDropped++;
      return r;
    }
    const v = r.values.slice();
    const direction = flowDirection(v[A.flowType] as number, v[A.sourcePodName] as string, v[A.destinationPodName] as string);
    const meta = this.opts.metadata;
    const start = v[A.flowStartSeconds] as number;
    if (meta && v[A.flowType] === FLOW_TYPE.interNode) {
      if (v[A.sourcePodName] === '') this.fillPod(v, meta, v[A.sourceAddress] as string, start, A.sourcePodName, A.sourcePodNamespace, A.sourceNodeName);
      if (v[A.destinationPodName] === '') this.fillPod(v, meta, v[A.destinationAddress] as string, start, A.destinationPodName, A.destinationPodNamespace, A.destinationNodeName);
    }
    const labels = (nameAt: number, namespaceAt: number): string => {
      if (!meta || !this.opts.podLabels || v[nameAt] === '' || v[namespaceAt] === '') return '';
      const pod = meta.getPod(v[namespaceAt] as string, v[nameAt] as string);
      return pod ? labelsJson(pod.labels) : '';
    };
    const v6 = origin.exporterAddress.includes(':');
    v.push(
      labels(A.sourcePodName, A.sourcePodNamespace),
      labels(A.destinationPodName, A.destinationPodNamespace),
      this.opts.clusterId,
      origin.observationDomainId,
      v6 ? '0.0.0.0' : origin.exporterAddress,
      v6 ? origin.exporterAddress : '::',
      direction,
    );
    this.counters.recordsForwarded++;
    this.opts.sink({ family: r.family, values: v });
    return null;
  }

  private fillPod(v: FieldValue[], meta: MetadataView, ip: string, start: number, name: number, namespace: number, node: number): void {
    const pod = meta.getPodByIPAndTime(ip, start);
    if (!pod) return;
    v[name] = pod.name;
    v[namespace] = pod.namespace;
    v[node] = pod.nodeName;
  }
}
