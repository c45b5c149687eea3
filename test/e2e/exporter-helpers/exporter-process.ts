/**
 * The node agent (`flowvis exporter`) run inside a node namespace, and its Prometheus metrics read
 * from inside that namespace with curl.
 */
import type { NetnsCluster } from '../netns/cluster.ts';
import type { ManagedProcess } from '../netns/exec.ts';

export interface ExporterProcessOptions {
  /** Logical node name: the namespace it runs in and, by default, its Kubernetes Node name. */
  node: string;
  /** Kubernetes Node name (default: `node`). */
  nodeName?: string;
  configPath: string;
  kubeconfigPath?: string;
  inventoryPath?: string;
  /** Metrics server address inside the namespace (default 127.0.0.1) and port (default 10350). */
  metricsAddress?: string;
  metricsPort?: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Log message (stderr) that means "started" (default: "flow exporter started"); null: do not wait. */
  readyPattern?: RegExp | null;
  startTimeoutMs?: number;
}

export class ExporterProcess {
  private constructor(
    private readonly cluster: NetnsCluster,
    readonly node: string,
    readonly nodeName: string,
    readonly process: ManagedProcess,
    readonly metricsUrl: string,
  ) {}

  /**
   * Starts the agent and waits for its "flow exporter started" log line (metadata synced, NFLOG
   * bound, first poll scheduled), unless `readyPattern` says otherwise. The process is killed by
   * `cluster.destroy()`.
   */
  static async start(cluster: NetnsCluster, o: ExporterProcessOptions): Promise<ExporterProcess> {
    const nodeName = o.nodeName ?? o.node;
    const address = o.metricsAddress ?? '127.0.0.1';
    const port = o.metricsPort ?? 10350;
    const argv = ['bin/flowvis', 'exporter', '--config', o.configPath, '--node-name', nodeName,
      '--metrics-port', String(port), '--metrics-address', address, '--log-level', o.logLevel ?? 'info'];
    if (o.kubeconfigPath !== undefined) argv.push('--kubeconfig', o.kubeconfigPath);
    if (o.inventoryPath !== undefined) argv.push('--inventory', o.inventoryPath);
    const proc = cluster.spawn(o.node, argv);
    const ready = o.readyPattern === undefined ? /"msg":"flow exporter started"/ : o.readyPattern;
    if (ready !== null) await proc.waitForOutput(ready, o.startTimeoutMs ?? 30_000, 'stderr');
    const host = address.includes(':') ? `[${address}]` : address;
    return new ExporterProcess(cluster, o.node, nodeName, proc, `http://${host}:${port}/metrics`);
  }

  /** GET /metrics from inside the node's namespace. */
  async metricsText(): Promise<string> {
    const r = await this.cluster.exec(this.node, ['curl', '-sS', '--fail', '--max-time', '5', this.metricsUrl], { timeoutMs: 10_000 });
    return r.stdout;
  }

  /** The metrics as "name{labels}" → value. */
  async metrics(): Promise<Map<string, number>> {
    return parsePrometheusText(await this.metricsText());
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

/**
 * Prometheus text format (samples only):
 *   metric_name{label="value",...} value [timestamp]
 * Keys keep the label part as written, e.g. `flowvis_agent_records_exported_total{store="deny"}`.
 */
export function parsePrometheusText(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?)\s+(\S+)/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}
