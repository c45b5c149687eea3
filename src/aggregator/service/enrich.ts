/**
 * The aggregator's metadata lookups (upstream fillK8sMetadata and fillPodLabels): Pod name,
 * namespace and Node of an end that no record named (inter-Node flows that were not correlated,
 * one-sided flows), found by address at the flow's start; and the Pods' labels as JSON when
 * recordContents.podLabels is on ("" otherwise, and for ends that are not Pods; "{}" for a Pod
 * without labels), as upstream writes them.
 */
import type { AggregatedFlow, EnrichHook } from '../core/index.ts';
import type { MetadataView } from '../../k8s/metadata-source.ts';

export interface EnrichOptions {
  metadata: MetadataView;
  podLabels: boolean;
}

function addresses(flow: AggregatedFlow): { src: string; dst: string } {
  return 'sourceIPv4Address' in flow
    ? { src: flow.sourceIPv4Address, dst: flow.destinationIPv4Address }
    : { src: flow.sourceIPv6Address, dst: flow.destinationIPv6Address };
}

/** Labels as JSON with sorted keys, so equal label sets give equal strings. */
function labelsJson(labels: Readonly<Record<string, string>>): string {
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) sorted[k] = labels[k];
  return JSON.stringify(sorted);
}

export function createEnrichHook(opts: EnrichOptions): EnrichHook {
  const meta = opts.metadata;
  return (flow, needs) => {
    const { src, dst } = addresses(flow);
    const t = flow.flowStartSeconds;
    if (needs.podFields) {
      if (flow.sourcePodName === '') {
        const pod = meta.getPodByIPAndTime(src, t);
        if (pod) {
          flow.sourcePodName = pod.name;
          flow.sourcePodNamespace = pod.namespace;
          flow.sourceNodeName = pod.nodeName;
        }
      }
      if (flow.destinationPodName === '') {
        const pod = meta.getPodByIPAndTime(dst, t);
        if (pod) {
          flow.destinationPodName = pod.name;
          flow.destinationPodNamespace = pod.namespace;
          flow.destinationNodeName = pod.nodeName;
        }
      }
    }
    if (needs.labels && opts.podLabels) {
      const s = flow.sourcePodName !== '' ? meta.getPod(flow.sourcePodNamespace, flow.sourcePodName) : undefined;
      const d = flow.destinationPodName !== '' ? meta.getPod(flow.destinationPodNamespace, flow.destinationPodName) : undefined;
      flow.sourcePodLabels = s ? labelsJson(s.labels) : '';
      flow.destinationPodLabels = d ? labelsJson(d.labels) : '';
    }
  };
}
