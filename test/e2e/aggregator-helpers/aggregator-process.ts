/**
 * The Flow Aggregator (`flowvis aggregator`) run inside a namespace of the cluster (by default
 * "agg" on 10.0.0.254), and its API read with `flowvis get ... -o json` from inside that namespace
 * (the test process lives in the root namespace, which cannot reach it).
 */
import { join } from 'node:path';
import type { NetnsCluster } from '../netns/cluster.ts';
import type { ExecResult, ManagedProcess } from '../netns/exec.ts';
import { parsePrometheusText } from '../exporter-helpers/exporter-process.ts';
import type { FieldValue } from '../exporter-helpers/flow-records.ts';
import { parseJsonExact } from './exact-json.ts';

export interface AggregatorProcessOptions {
  /** Logical namespace name (default "agg"). */
  namespace?: string;
  configPath: string;
  /** <state-dir>: pki/ (ca.crt, client.crt, client.key outside Kubernetes), api-token, cluster-uuid. */
  stateDir: string;
  /** Kubernetes access (the fake API server's kubeconfig)... */
  kubeconfigPath?: string;
  /** ...or a static inventory. Neither: no metadata. */
  inventoryPath?: string;
  /** Host the API clients use (default: the namespace's underlay IPv4 address; it must be in the certificate). */
  apiHost?: string;
  /** apiServer.apiPort of the configuration (default 10348). */
  apiPort?: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  startTimeoutMs?: number;
}

/** One record of `GET /flowrecords`: the 69 elements by name, then correlationState. */
export type ApiFlowRecord = Record<string, FieldValue>;

export interface RecordMetrics {
  numRecordsExported: number;
  numRecordsReceived: number;
  numRecordsDropped: number;
  numFlows: number;
  numConnToCollector: number;
  withClickHouseExporter: boolean;
  withS3Exporter: boolean;
  withLogExporter: boolean;
  withIPFIXExporter: boolean;
}

export interface FlowRecordFilter {
  srcip?: string;
  dstip?: string;
  proto?: string | number;
  srcport?: number;
  dstport?: number;
  limit?: number;
}

export class AggregatorProcess {
  private constructor(
    private readonly cluster: NetnsCluster,
    readonly namespace: string,
    readonly process: ManagedProcess,
    readonly stateDir: string,
    /** https://HOST:PORT for API clients. */
    readonly apiUrl: string,
    /** The "flow aggregator started" log line (collector, api, tokenFile, clusterUUID, sinks...). */
    readonly startedLog: Record<string, unknown>,
  ) {}

  /**
   * Starts the aggregator and waits for its "flow aggregator started" log line (PKI ready, collector
   * listening, API serving). The process is killed by `cluster.destroy()`.
   */
  static async start(cluster: NetnsCluster, o: AggregatorProcessOptions): Promise<AggregatorProcess> {
    const namespace = o.namespace ?? 'agg';
    const argv = ['bin/flowvis', 'aggregator', '--config', o.configPath, '--state-dir', o.stateDir, '--log-level', o.logLevel ?? 'info'];
    if (o.kubeconfigPath !== undefined) argv.push('--kubeconfig', o.kubeconfigPath);
    if (o.inventoryPath !== undefined) argv.push('--inventory', o.inventoryPath);
    const proc = cluster.spawn(namespace, argv);
    const m = await proc.waitForOutput(/^\{.*"msg":"flow aggregator started".*$/m, o.startTimeoutMs ?? 40_000, 'stderr');
    const started = JSON.parse(m[0]) as Record<string, unknown>;
    const host = o.apiHost ?? (namespace === cluster.aggregator?.name ? cluster.aggregator.ipv4 : '127.0.0.1');
    const url = `https://${host.includes(':') ? `[${host}]` : host}:${o.apiPort ?? 10348}`;
    return new AggregatorProcess(cluster, namespace, proc, o.stateDir, url, started);
  }

  /** Files an exporter outside Kubernetes (or an API client) needs. */
  get pki(): { caFile: string; certFile: string; keyFile: string } {
    const dir = join(this.stateDir, 'pki');
    return { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'client.crt'), keyFile: join(dir, 'client.key') };
  }

  get tokenFile(): string {
    return typeof this.startedLog.tokenFile === 'string' ? this.startedLog.tokenFile : join(this.stateDir, 'api-token');
  }

  get clusterUUID(): string {
    return String(this.startedLog.clusterUUID);
  }

  /** Runs `flowvis get <args>` against this aggregator, inside its namespace. */
  async get(args: readonly string[], o: { allowFailure?: boolean } = {}): Promise<ExecResult> {
    return this.cluster.exec(this.namespace, [
      'bin/flowvis', 'get', ...args, '--server', this.apiUrl, '--token-file', this.tokenFile, '--ca-file', this.pki.caFile,
    ], { timeoutMs: 30_000, allowFailure: o.allowFailure });
  }

  /** `flowvis get flowrecords -o json` with the given filters. */
  async flowRecords(f: FlowRecordFilter = {}): Promise<ApiFlowRecord[]> {
    const args = ['flowrecords', '-o', 'json'];
    for (const [k, v] of Object.entries(f)) if (v !== undefined) args.push(`--${k}`, String(v));
    const r = await this.get(args);
    return parseJsonExact(r.stdout) as ApiFlowRecord[];
  }

  /** `flowvis get recordmetrics -o json`. */
  async recordMetrics(): Promise<RecordMetrics> {
    const r = await this.get(['recordmetrics', '-o', 'json']);
    return parseJsonExact(r.stdout) as RecordMetrics;
  }

  /** GET /metrics (Prometheus text) with the bearer token, from inside the namespace. */
  async metrics(): Promise<Map<string, number>> {
    const r = await this.cluster.sh(this.namespace,
      `curl -sS --fail --max-time 5 --cacert '${this.pki.caFile}' -H "Authorization: Bearer $(cat '${this.tokenFile}')" '${this.apiUrl}/metrics'`,
      { timeoutMs: 10_000 });
    return parsePrometheusText(r.stdout);
  }

  /** Log lines (pino JSON on stderr) whose message matches. */
  logLines(msg: RegExp): Record<string, unknown>[] {
    return this.process.stderr.split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => typeof l.msg === 'string' && msg.test(l.msg));
  }

  async stop(): Promise<void> {
    await this.process.kill();
  }
}
