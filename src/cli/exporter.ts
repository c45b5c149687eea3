/**
 * `flowvis exporter`: the node agent. Reads antrea-agent.conf (featureGates.FlowExporter and the
 * flowExporter section), Kubernetes metadata from the API (--kubeconfig, KUBECONFIG or in-cluster)
 * or from a static inventory file (--inventory), polls this Node's conntrack table and exports
 * IPFIX records to flowCollectorAddr.
 */
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { Command, Option } from 'commander';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { loadAgentConfig } from '../config/load.ts';
import type { FlowExporterConfig } from '../config/agent-config.ts';
import { createConntrackSource, enableConntrackAccounting, readConntrackMax } from '../conntrack/index.ts';
import { NflogListener } from '../conntrack/nflog.ts';
import { ConfigError } from '../errors.ts';
import { FlowExporterAgent } from '../exporter/agent.ts';
import { fnv1_32 } from '../ipfix/antrea-templates.ts';
import { KubernetesMetadataSource } from '../k8s/kubernetes-source.ts';
import type { MetadataSource } from '../k8s/metadata-source.ts';
import { StaticInventorySource } from '../k8s/static-inventory.ts';
import { readAggregatorTlsMaterial } from '../k8s/flow-aggregator-tls.ts';
import { ExportingProcess, type ExporterTlsOptions } from '../transport/index.ts';
import { createLogger, integerOption, isEntryPoint, LOG_LEVELS, serveMetrics, untilSignal } from './common.ts';

export interface ExporterCliOptions {
  config: string;
  nodeName?: string;
  kubeconfig?: string;
  inventory?: string;
  metricsPort: number;
  metricsAddress: string;
  logLevel: string;
}

export function configureExporterCommand(cmd: Command): Command {
  return cmd
    .description('Flow Exporter (node agent): conntrack → Kubernetes metadata → IPFIX')
    .requiredOption('--config <file>', 'antrea-agent.conf (featureGates.FlowExporter and the flowExporter section)')
    .option('--node-name <name>', 'this Node\'s name (default: $NODE_NAME, else the host name)')
    .option('--kubeconfig <file>', 'kubeconfig for the Kubernetes API (default: $KUBECONFIG, ~/.kube/config or in-cluster)')
    .option('--inventory <file>', 'static inventory YAML instead of the Kubernetes API')
    .option('--metrics-port <port>', 'serve /metrics and /healthz on this port (0: off)', integerOption('--metrics-port', 0, 65535), 10350)
    .option('--metrics-address <ip>', 'address of the metrics server', '0.0.0.0')
    .addOption(new Option('--log-level <level>', 'log level (logs go to stderr)').choices(LOG_LEVELS).default('info'))
    .action(async (opts: ExporterCliOptions, command: Command) => {
      try {
        await runExporter(opts);
      } catch (e) {
        command.error(`error: ${(e as Error).message}`, { exitCode: 2 });
      }
    });
}

export function registerExporterCommand(program: Command): Command {
  return configureExporterCommand(program.command('exporter'));
}

async function openMetadata(opts: ExporterCliOptions, nodeName: string, log: Logger): Promise<MetadataSource> {
  if (opts.inventory !== undefined && opts.kubeconfig !== undefined) {
    throw new ConfigError('OPTION_CONFLICT', 'give either --kubeconfig or --inventory, not both', { key: 'inventory' });
  }
  if (opts.inventory !== undefined) {
    const src = await StaticInventorySource.fromFile(opts.inventory, { localNodeName: nodeName });
    log.info({ inventory: opts.inventory, pods: src.listPods().length, nodes: src.listNodes().length }, 'metadata from a static inventory');
    return src;
  }
  const src = new KubernetesMetadataSource({
    kubeconfigPath: opts.kubeconfig, localNodeName: nodeName,
    onError: (err) => log.warn({ err }, 'Kubernetes metadata: informer error (retrying)'),
  });
  await src.start();
  await src.waitForSync(60_000);
  log.info({ pods: src.listPods().length, nodes: src.listNodes().length }, 'metadata from the Kubernetes API: synced');
  return src;
}

/** The ClusterIP of the collector Service that flowCollectorAddr names (`namespace/name`). */
function collectorEndpoint(c: FlowExporterConfig, meta: MetadataSource): string {
  const addr = c.flowCollector;
  const svc = meta.listServices().find((s) => s.namespace === addr.namespace && s.name === addr.name);
  const ip = svc?.clusterIPs.find((x) => x !== '' && x !== 'None');
  if (!ip) {
    throw new ConfigError('COLLECTOR_SERVICE_NOT_FOUND', `flowCollectorAddr: Service ${addr.namespace}/${addr.name} not found or has no ClusterIP`, { key: 'flowExporter.flowCollectorAddr', value: c.flowCollectorAddr });
  }
  return ip;
}

/**
 * TLS settings: files named in flowExporter.tls win; otherwise, with Kubernetes access, the CA and
 * client certificate the aggregator publishes (ConfigMap flow-aggregator-ca, Secret
 * flow-aggregator-client-tls), as Antrea's agent does.
 */
async function tlsOptions(c: FlowExporterConfig, servername: string | undefined, meta: MetadataSource, opts: ExporterCliOptions, log: Logger): Promise<ExporterTlsOptions> {
  const read = (key: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (e) {
      throw new ConfigError('FILE_UNREADABLE', `flowExporter.tls.${key}: ${(e as Error).message}`, { key: `flowExporter.tls.${key}`, value: path });
    }
  };
  const base = { servername, rejectUnauthorized: !c.tls.insecureSkipVerify };
  if (c.tls.caFile !== undefined || c.tls.certFile !== undefined || meta.kind !== 'kubernetes') {
    return { ...base, ca: read('caFile', c.tls.caFile), cert: read('certFile', c.tls.certFile), key: read('keyFile', c.tls.keyFile) };
  }
  const kc = new KubeConfig();
  if (opts.kubeconfig !== undefined) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  const material = await readAggregatorTlsMaterial(kc);
  log.info({ configMap: 'flow-aggregator/flow-aggregator-ca', secret: 'flow-aggregator/flow-aggregator-client-tls' }, 'TLS: using the CA and client certificate the flow aggregator publishes');
  return { ...base, ...material };
}

/** Runs the agent until SIGINT/SIGTERM. */
export async function runExporter(opts: ExporterCliOptions): Promise<void> {
  const log = createLogger('flowvis-exporter', opts.logLevel);
  const { config, warnings } = await loadAgentConfig({ path: opts.config });
  for (const w of warnings) log.warn({ key: w.key }, w.message);
  const c = config.flowExporter;
  if (!c.enabled) {
    log.warn('flow export is disabled: set featureGates.FlowExporter and flowExporter.enable to true');
    return;
  }
  const nodeName = opts.nodeName ?? process.env.NODE_NAME ?? hostname();
  for (const w of await enableConntrackAccounting()) log.warn(w);
  const conntrackMax = await readConntrackMax().catch(() => undefined);
  const { source, kind, fallbackReason } = await createConntrackSource();
  log.info({ source: kind, fallbackReason }, kind === 'netlink' ? 'conntrack over netlink' : 'conntrack through the conntrack CLI (netlink unavailable)');
  const metadata = await openMetadata(opts, nodeName, log);
  // A Service reference is resolved before every connection attempt: the Service may not exist yet
  // (agents often start before the aggregator) or may get a new ClusterIP.
  const addr = c.flowCollector;
  const host = addr.isServiceRef ? `${addr.namespace}/${addr.name}` : addr.host;
  const servername = addr.isServiceRef ? c.tls.serverName ?? `${addr.name}.${addr.namespace}.svc` : c.tls.serverName;
  const exporter = new ExportingProcess({
    host, resolveHost: addr.isServiceRef ? () => collectorEndpoint(c, metadata) : undefined,
    port: c.flowCollector.port, transport: c.flowCollector.proto, observationDomainId: fnv1_32(nodeName),
    tls: c.flowCollector.proto === 'tls' ? await tlsOptions(c, servername, metadata, opts, log) : undefined,
    logger: log.child({ component: 'ipfix-exporter' }),
  });
  const agent = new FlowExporterAgent({ nodeName, config: c, metadata, conntrack: source, sink: exporter, conntrackMax, logger: log });
  exporter.start();
  let nflog: NflogListener | undefined;
  if (c.nflog.enable) {
    nflog = await NflogListener.open({
      group: c.nflog.group,
      onPacket: (p) => agent.onDeniedPacket(p),
      onError: (err) => { agent.metrics.malformedNetlink.inc(); log.warn({ err }, 'NFLOG'); },
    });
    log.info({ group: c.nflog.group, prefixFormat: c.nflog.prefixFormat }, 'listening for denied packets on NFLOG');
  }
  let server: Server | undefined;
  if (opts.metricsPort > 0) server = await serveMetrics(agent.metrics.registry, opts.metricsPort, opts.metricsAddress);
  agent.start();
  log.info({ nodeName, collector: `${host}:${c.flowCollector.port}:${c.flowCollector.proto}`, pollIntervalMs: c.flowPollInterval,
    activeTimeoutMs: c.activeFlowExportTimeout, idleTimeoutMs: c.idleFlowExportTimeout, observationDomainId: fnv1_32(nodeName) }, 'flow exporter started');
  const signal = await untilSignal(log);
  log.info({ signal }, 'stopping flow exporter');
  await agent.stop();
  agent.exportDue();
  nflog?.close();
  await exporter.close();
  source.close();
  await metadata.stop();
  server?.close();
}

if (isEntryPoint(import.meta)) {
  await configureExporterCommand(new Command('flowvis-exporter')).parseAsync(process.argv);
}
