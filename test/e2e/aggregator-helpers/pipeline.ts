/**
 * The whole flow-visibility pipeline on a network-namespace cluster, started in one call:
 *
 *   fake Kubernetes API server (agg) ← Namespaces, Nodes, Pods, the aggregator's Service, extras
 *   flowvis aggregator (agg, TLS on 4739, API on 10348, Kubernetes access) → downstream collector:
 *     "ipfix": our `flowvis collector --output json` (agg, TCP 4740)
 *     "json":  a plain TCP listener receiving JSON lines (agg, TCP 4741)
 *   flowvis exporter per node, flowCollectorAddr "flow-aggregator/flow-aggregator:4739:tls": the
 *     Service's ClusterIP is DNATed in each node's output hook to 10.0.0.254:4739, and the TLS
 *     material comes from the ConfigMap/Secret the aggregator publishes through the API.
 *
 * Every process is spawned through the cluster, so `cluster.destroy()` ends them all.
 *
 *   const p = await startPipeline(cluster, { work, clusterObjects: { pods: {...} }, objects: [svc, netpol] });
 *   ... traffic ...
 *   await p.collector!.waitForRecords(...); await p.aggregator.flowRecords({ srcip, srcport });
 */
import type { KubeObject } from '../fake-apiserver/object-store.ts';
import type { NetnsCluster } from '../netns/cluster.ts';
import { configMap, service } from './k8s-objects.ts';
import { agentConfigYaml, type AgentConfigOptions } from '../exporter-helpers/agent-config.ts';
import { clusterObjects, type ClusterObjectsOptions } from '../exporter-helpers/cluster-objects.ts';
import { CollectorProcess } from '../exporter-helpers/collector-process.ts';
import { ExporterProcess } from '../exporter-helpers/exporter-process.ts';
import { FakeApiServerProcess } from '../exporter-helpers/fake-apiserver-process.ts';
import { pollUntil } from '../exporter-helpers/poll.ts';
import type { WorkDir } from '../exporter-helpers/workdir.ts';
import { aggregatorConfigYaml, type AggregatorConfigOptions } from './aggregator-config.ts';
import { AggregatorProcess } from './aggregator-process.ts';
import { JsonLinesServer } from './json-lines-server.ts';
import { dnatNodeOutput, routeServiceRange } from './service-routes.ts';

export const AGGREGATOR_NAMESPACE = 'flow-aggregator';
export const AGGREGATOR_SERVICE = 'flow-aggregator';
export const AGGREGATOR_CLUSTER_IP = '10.96.0.100';
export const IPFIX_PORT = 4739;
export const DOWNSTREAM_IPFIX_PORT = 4740;
export const DOWNSTREAM_JSON_PORT = 4741;

export type Downstream = 'ipfix' | 'json' | 'none';

export interface PipelineOptions {
  work: WorkDir;
  /** Namespaces, Nodes and Pods from the cluster's address plan, with these names and labels. */
  clusterObjects?: ClusterObjectsOptions;
  /** More objects (Services, NetworkPolicies...), created after the Pods. */
  objects?: readonly KubeObject[];
  /** Published in ConfigMap kube-system/antrea-cluster-identity (the aggregator's clusterId and observation domain). */
  clusterUUID?: string;
  /** The aggregator's configuration, besides flowCollector (see `downstream`). */
  aggregator?: Omit<AggregatorConfigOptions, 'flowCollector'>;
  /** Where the aggregator exports (default "ipfix"). */
  downstream?: Downstream;
  /** Nodes that run an agent (default: every node). */
  agentNodes?: readonly string[];
  /** Agent configuration besides flowCollectorAddr (fast timeouts by default). */
  agent?: Omit<AgentConfigOptions, 'flowCollectorAddr'>;
  /**
   * "service" (default): flowCollectorAddr "flow-aggregator/flow-aggregator:4739:tls" (the Service,
   * DNATed in each node's output hook); "address": "10.0.0.254:4739:tls". Either way the agents
   * read the CA and client certificate the aggregator published in the API (ConfigMap
   * flow-aggregator-ca, Secret flow-aggregator-client-tls); with "address" the server name checked
   * is 10.0.0.254, which the pipeline puts in the certificate (flowAggregatorAddress).
   */
  agentCollector?: 'service' | 'address';
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export class Pipeline {
  aggregator!: AggregatorProcess;
  collector: CollectorProcess | undefined;
  jsonLines: JsonLinesServer | undefined;
  readonly agents = new Map<string, ExporterProcess>();
  agentConfigPath = '';
  private aggregatorStarts = 0;

  constructor(readonly cluster: NetnsCluster, readonly api: FakeApiServerProcess, readonly o: PipelineOptions) {}

  get stateDir(): string {
    return this.o.work.file('aggregator-state');
  }

  /**
   * Starts (or, after `aggregator.stop()`, restarts) the aggregator exporting to `downstream`,
   * starting that downstream receiver when it is not running yet.
   */
  async startAggregator(downstream: Downstream = this.o.downstream ?? 'ipfix'): Promise<AggregatorProcess> {
    const agg = this.cluster.aggregator!;
    let flowCollector: AggregatorConfigOptions['flowCollector'];
    if (downstream === 'ipfix') {
      this.collector ??= await CollectorProcess.start(this.cluster, { port: DOWNSTREAM_IPFIX_PORT, proto: 'tcp' });
      flowCollector = { address: this.collector.flowCollectorAddr, recordFormat: 'IPFIX' };
    } else if (downstream === 'json') {
      this.jsonLines ??= await JsonLinesServer.start(this.cluster, { port: DOWNSTREAM_JSON_PORT });
      flowCollector = { address: this.jsonLines.collectorAddress, recordFormat: 'JSON' };
    }
    const n = ++this.aggregatorStarts;
    const configPath = await this.o.work.write(`flow-aggregator-${n}.conf`, aggregatorConfigYaml({
      flowAggregatorAddress: agg.ipv4, ...this.o.aggregator, ...(flowCollector ? { flowCollector } : {}),
    }));
    this.aggregator = await AggregatorProcess.start(this.cluster, {
      configPath, stateDir: this.stateDir, kubeconfigPath: this.api.kubeconfigPath, logLevel: this.o.logLevel,
      apiPort: this.o.aggregator?.apiPort,
    });
    return this.aggregator;
  }

  /** Starts one agent per node (in parallel) and waits until each has connected to the aggregator. */
  async startAgents(): Promise<void> {
    const nodes = this.o.agentNodes ?? this.cluster.nodes.map((n) => n.name);
    const agg = this.cluster.aggregator!;
    const port = this.o.aggregator?.collectorPort ?? IPFIX_PORT;
    if ((this.o.agentCollector ?? 'service') === 'service') {
      for (const node of nodes) {
        await routeServiceRange(this.cluster, node);
        await dnatNodeOutput(this.cluster, node, { clusterIP: AGGREGATOR_CLUSTER_IP, port, target: agg.ipv4, targetPort: port });
      }
    }
    this.agentConfigPath = await this.o.work.write('antrea-agent.conf', this.agentConfig());
    const started = await Promise.all(nodes.map((node) => ExporterProcess.start(this.cluster, {
      node, configPath: this.agentConfigPath, kubeconfigPath: this.api.kubeconfigPath, logLevel: this.o.logLevel,
    })));
    for (const e of started) this.agents.set(e.node, e);
    await Promise.all(started.map((e) => e.process.waitForOutput(/"msg":"IPFIX exporter connected"/, 20_000, 'stderr')));
    await pollUntil(async () => (await this.aggregator.recordMetrics()).numConnToCollector >= started.length, {
      timeoutMs: 15_000, intervalMs: 250, what: `${started.length} exporters connected to the aggregator`,
      describe: () => this.aggregator.process.stderr.slice(-2000),
    });
  }

  /** antrea-agent.conf text of the pipeline's agents. */
  agentConfig(extra: Partial<AgentConfigOptions> = {}): string {
    const port = this.o.aggregator?.collectorPort ?? IPFIX_PORT;
    const flowCollectorAddr = (this.o.agentCollector ?? 'service') === 'service'
      ? `${AGGREGATOR_NAMESPACE}/${AGGREGATOR_SERVICE}:${port}:tls`
      : `${this.cluster.aggregator!.ipv4}:${port}:tls`;
    return agentConfigYaml({ flowCollectorAddr, ...this.o.agent, ...extra });
  }
}

/** The aggregator's Service (ClusterIP AGGREGATOR_CLUSTER_IP, the IPFIX port). */
export function aggregatorServiceObject(port = IPFIX_PORT): KubeObject {
  return service(AGGREGATOR_NAMESPACE, AGGREGATOR_SERVICE, {
    clusterIPs: [AGGREGATOR_CLUSTER_IP], ports: [{ name: 'ipfix-tcp', port, protocol: 'TCP', targetPort: port }],
  });
}

/**
 * Starts the fake API server (filled with the cluster's objects, the flow-aggregator Namespace and
 * Service, the cluster UUID ConfigMap and `objects`), the aggregator with its downstream receiver,
 * and one agent per node; resolves once every agent is connected to the aggregator.
 */
export async function startPipeline(cluster: NetnsCluster, o: PipelineOptions): Promise<Pipeline> {
  if (!cluster.aggregator) throw new Error('startPipeline: create the cluster with `aggregator: true`');
  const api = await FakeApiServerProcess.start(cluster, { kubeconfigPath: o.work.file('kubeconfig') });
  const namespaceLabels = { [AGGREGATOR_NAMESPACE]: {}, ...o.clusterObjects?.namespaceLabels };
  await api.createAll([
    ...clusterObjects(cluster, { ...o.clusterObjects, namespaceLabels }),
    aggregatorServiceObject(o.aggregator?.collectorPort),
    ...(o.clusterUUID ? [configMap('kube-system', 'antrea-cluster-identity', { uuid: o.clusterUUID })] : []),
    ...(o.objects ?? []),
  ]);
  const p = new Pipeline(cluster, api, o);
  await p.startAggregator();
  await p.startAgents();
  return p;
}
