/**
 * `flowvis aggregator`: the Flow Aggregator. Reads flow-aggregator.conf; collects IPFIX from the
 * agents (TLS with generated certificates by default, TCP or UDP), correlates and aggregates, and
 * exports to the enabled sinks (IPFIX/JSON collector, flow log, ClickHouse, embedded store); serves
 * the HTTPS API on apiServer.apiPort for `flowvis get`.
 */
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { loadAggregatorConfig } from '../config/load.ts';
import type { AggregatorConfig } from '../config/aggregator-types.ts';
import { ConfigError } from '../errors.ts';
import { KubernetesMetadataSource } from '../k8s/kubernetes-source.ts';
import type { MetadataSource } from '../k8s/metadata-source.ts';
import { StaticInventorySource } from '../k8s/static-inventory.ts';
import { CertificateManager, defaultStateDir, DirectoryPkiStore, KubernetesPkiStore } from '../aggregator/certs/index.ts';
import { loadOrCreateToken, startApiServer, readCertDir } from '../aggregator/api/index.ts';
import { AggregatorService } from '../aggregator/service/aggregator-service.ts';
import { antreaClusterUUID, persistentClusterUUID } from '../aggregator/service/cluster-identity.ts';
import { buildSinks } from '../aggregator/service/sinks-from-config.ts';
import { proxySinkFromConfig } from '../aggregator/sinks/sink-set.ts';
import { SinkSet } from '../aggregator/sinks/sink-set.ts';
import { ClickHouseFlowQueries, DuckDBFlowQueries } from '../aggregator/query/index.ts';
import { createLogger, isEntryPoint, LOG_LEVELS, untilSignal } from './common.ts';

export interface AggregatorCliOptions {
  config: string;
  kubeconfig?: string;
  inventory?: string;
  stateDir?: string;
  logLevel: string;
}

export function configureAggregatorCommand(cmd: Command): Command {
  return cmd
    .description('Flow Aggregator: collect, correlate and aggregate flow records, export them, serve the API')
    .requiredOption('--config <file>', 'flow-aggregator.conf')
    .option('--kubeconfig <file>', 'kubeconfig for the Kubernetes API (default: $KUBECONFIG, or in-cluster in a Pod)')
    .option('--inventory <file>', 'static inventory YAML instead of the Kubernetes API')
    .option('--state-dir <dir>', 'certificates, API token and cluster UUID (default: $FLOWVIS_STATE_DIR, /var/run/flowvis as root)')
    .addOption(new Option('--log-level <level>', 'log level (logs go to stderr)').choices(LOG_LEVELS).default('info'))
    .action(async (opts: AggregatorCliOptions, command: Command) => {
      try {
        await runAggregator(opts);
      } catch (e) {
        command.error(`error: ${(e as Error).message}`, { exitCode: 2 });
      }
    });
}

export function registerAggregatorCommand(program: Command): Command {
  return configureAggregatorCommand(program.command('aggregator'));
}

/** Kubernetes access: --kubeconfig, $KUBECONFIG, or in-cluster; undefined when none applies. */
function kubeConfig(opts: AggregatorCliOptions): KubeConfig | undefined {
  if (opts.inventory !== undefined) return undefined;
  const kc = new KubeConfig();
  if (opts.kubeconfig !== undefined) kc.loadFromFile(opts.kubeconfig);
  else if (process.env.KUBECONFIG) kc.loadFromDefault();
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else return undefined;
  return kc;
}

async function openMetadata(opts: AggregatorCliOptions, kc: KubeConfig | undefined, log: Logger): Promise<MetadataSource | undefined> {
  if (opts.inventory !== undefined) return StaticInventorySource.fromFile(opts.inventory);
  if (!kc) {
    log.warn('no Kubernetes access (--kubeconfig, KUBECONFIG, in-cluster) and no --inventory: Pod names of non-correlated flows and Pod labels stay empty');
    return undefined;
  }
  const src = new KubernetesMetadataSource({
    kubeConfig: kc, resources: { networkPolicies: false },
    onError: (err) => log.warn({ err }, 'Kubernetes metadata: informer error (retrying)'),
  });
  await src.start();
  await src.waitForSync(60_000);
  return src;
}

async function clusterUUID(config: AggregatorConfig, kc: KubeConfig | undefined, stateDir: string): Promise<string> {
  const fromApi = kc ? await antreaClusterUUID(kc.makeApiClient(CoreV1Api)) : undefined;
  return fromApi ?? (await persistentClusterUUID(join(stateDir, 'cluster-uuid')));
}

/** One key of a Secret, decoded. */
async function readSecretKey(kc: KubeConfig, namespace: string, name: string, key: string): Promise<string> {
  const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name, namespace });
  const value = secret.data?.[key];
  if (!value) throw new ConfigError('SECRET_KEY_MISSING', `Secret ${namespace}/${name} has no key ${key}`, { key: `${namespace}/${name}:${key}` });
  return Buffer.from(value, 'base64').toString('utf8');
}

export async function runAggregator(opts: AggregatorCliOptions): Promise<void> {
  const log = createLogger('flowvis-aggregator', opts.logLevel);
  const { config, warnings } = await loadAggregatorConfig({ path: opts.config });
  for (const w of warnings) log.warn({ key: w.key }, w.message);
  if (opts.inventory !== undefined && opts.kubeconfig !== undefined) {
    throw new ConfigError('OPTION_CONFLICT', 'give either --kubeconfig or --inventory, not both', { key: 'inventory' });
  }
  const stateDir = opts.stateDir ?? defaultStateDir();
  const kc = kubeConfig(opts);
  const metadata = await openMetadata(opts, kc, log);
  const uuid = await clusterUUID(config, kc, stateDir);

  const certs = new CertificateManager({
    store: kc ? new KubernetesPkiStore(kc.makeApiClient(CoreV1Api)) : new DirectoryPkiStore(join(stateDir, 'pki')),
    flowAggregatorAddress: config.flowAggregatorAddress || undefined,
    caFile: join(stateDir, 'pki', 'ca.crt'),
    onError: (err) => log.warn({ err }, 'certificate check failed'),
  });
  await certs.start();
  certs.startTimer();
  const pki = certs.current;

  // Proxy mode: no aggregation and no storage; every record goes on to flowCollector as it comes.
  const proxy = config.mode === 'Proxy';
  if (proxy && !config.flowCollector.enable) {
    throw new ConfigError('REQUIRED', 'mode: Proxy forwards every record to flowCollector: set flowCollector.enable to true (and its address)', { key: 'flowCollector.enable' });
  }
  const { sinks, embedded } = proxy
    ? { sinks: new SinkSet([], log), embedded: undefined }
    : await buildSinks(config, {
      clusterUUID: uuid, logger: log,
      clickHouseCa: kc ? () => readSecretKey(kc, 'flow-aggregator', 'clickhouse-ca', 'ca.crt') : undefined,
    });
  const proxySink = proxy ? proxySinkFromConfig(config.flowCollector, { clusterUUID: uuid, logger: log }) : undefined;
  const service = new AggregatorService({
    config, sinks, proxySink, metadata, clusterUUID: uuid, logger: log.child({ component: 'collector' }),
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requireClientCert: true },
  });
  const bound = await service.start();
  const apiCert = config.apiServer.certDir ? await readCertDir(config.apiServer.certDir) : { cert: pki.server.cert, key: pki.server.key };
  const tokenFile = config.apiServer.tokenFile || join(stateDir, 'api-token');
  // The query layer (flowvis get flows/toptalkers/..., the UI) reads the embedded store, else ClickHouse.
  const flowQueries = embedded
    ? await DuckDBFlowQueries.open(embedded)
    : config.clickHouse.enable
      ? ClickHouseFlowQueries.open({ databaseURL: config.clickHouse.databaseURL, database: config.clickHouse.database, compress: config.clickHouse.compress })
      : undefined;
  const api = await startApiServer({
    queries: service.core, flowQueries, recordMetrics: () => service.recordMetrics(), registry: service.registry,
    cert: apiCert.cert, key: apiCert.key, tlsMinVersion: config.apiServer.tlsMinVersion,
    tlsCipherSuites: config.apiServer.tlsCipherSuites, token: await loadOrCreateToken(tokenFile),
    port: config.apiServer.apiPort, log: log.child({ component: 'api' }),
  });
  certs.onRenew((next) => {
    // The collector (TLS) and, unless it has certificates of its own, the API take the renewed ones.
    if (config.aggregatorTransportProtocol.toLowerCase() === 'tls') {
      service.setTlsCredentials({ cert: next.server.cert, key: next.server.key, ca: next.ca.cert });
    }
    if (!config.apiServer.certDir) api.setCertificate(next.server.cert, next.server.key);
  });
  log.info({
    collector: `${bound.address}:${bound.port}/${config.aggregatorTransportProtocol}`, api: api.url, tokenFile, clusterUUID: uuid,
    mode: config.mode, sinks: proxySink ? [`${proxySink.name} (proxy)`] : sinks.sinks.map((s) => s.name),
    activeTimeoutMs: config.activeFlowRecordTimeout, inactiveTimeoutMs: config.inactiveFlowRecordTimeout,
  }, 'flow aggregator started');

  const signal = await untilSignal(log);
  log.info({ signal }, 'stopping flow aggregator');
  certs.stopTimer();
  await service.stop();
  await api.close();
  await flowQueries?.close();
  await metadata?.stop();
}

if (isEntryPoint(import.meta)) {
  await configureAggregatorCommand(new Command('flowvis-aggregator')).parseAsync(process.argv);
}
