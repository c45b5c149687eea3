/**
 * Real TCP and UDP traffic between pods with socat: dual-stack echo servers and clients with a
 * fixed source port, so that each connection's 5-tuple is known in advance.
 */
import type { NetnsCluster } from '../netns/cluster.ts';
import type { ExecResult, ManagedProcess } from '../netns/exec.ts';
import { pollUntil } from './poll.ts';

export type Proto = 'tcp' | 'udp';
export type Family = 4 | 6;

/** A socat address: "TCP4:10.244.2.10:8080,sourceport=40001" or "UDP6:[fd00::10]:53,...". */
export function socatConnectAddress(proto: Proto, family: Family, host: string, port: number, options: readonly string[] = []): string {
  const h = family === 6 ? `[${host}]` : host;
  return [`${proto.toUpperCase()}${family}:${h}:${port}`, ...options].join(',');
}

/**
 * Starts a dual-stack echo server in `pod` (IPv4 clients arrive as IPv4-mapped addresses; on the
 * wire they are plain IPv4) and waits until it listens. Killed by `cluster.destroy()`.
 */
export async function startEchoServer(cluster: NetnsCluster, pod: string, proto: Proto, port: number): Promise<ManagedProcess> {
  const listen = proto === 'tcp' ? `TCP6-LISTEN:${port},reuseaddr,fork,ipv6only=0` : `UDP6-RECVFROM:${port},fork,ipv6only=0`;
  const proc = cluster.spawn(pod, ['socat', listen, 'EXEC:cat']);
  const flag = proto === 'tcp' ? '-Hltn' : '-Hlun';
  await pollUntil(async () => {
    if (!proc.running) throw new Error(`socat server exited: ${proc.stderr}`);
    const r = await cluster.exec(pod, ['ss', flag, `sport = :${port}`]);
    return r.stdout.trim() !== '';
  }, { timeoutMs: 5000, intervalMs: 50, what: `${proto} server on ${pod}:${port}` });
  return proc;
}

export interface ClientOptions {
  proto: Proto;
  family: Family;
  host: string;
  port: number;
  sourcePort: number;
  /**
   * A shell command whose output is sent (default: `printf hello`). Each write becomes one
   * datagram for UDP, e.g. `for i in 1 2 3; do echo ping$i; sleep 0.2; done`.
   */
  producer?: string;
  /** socat's -t: seconds to wait for the peer after the input ends (default 2). */
  halfCloseTimeout?: number;
  /** Extra socat address options, e.g. "connect-timeout=2". */
  options?: readonly string[];
  /** Resolve even when socat fails (e.g. a connection that is dropped). */
  allowFailure?: boolean;
  timeoutMs?: number;
}

/** Runs one client conversation in `pod` to completion; stdout holds what the server echoed. */
export function runClient(cluster: NetnsCluster, pod: string, o: ClientOptions): Promise<ExecResult> {
  const address = socatConnectAddress(o.proto, o.family, o.host, o.port, [`sourceport=${o.sourcePort}`, 'reuseaddr', ...(o.options ?? [])]);
  const producer = o.producer ?? 'printf hello';
  const script = `(${producer}) | socat -t ${o.halfCloseTimeout ?? 2} - '${address}'`;
  return cluster.sh(pod, script, { allowFailure: o.allowFailure, timeoutMs: o.timeoutMs ?? 30_000 });
}
