/**
 * A small Kubernetes-like "cluster" made of network namespaces, for end-to-end tests on a real
 * kernel (real routing, real conntrack per node).
 *
 *                         <prefix>net  (bridge br0: the node underlay 10.0.0.0/24, fd00::/64)
 *             ┌───────────────┬─────────┴─────┬──────────────────┐
 *   <prefix>node1 eth0   <prefix>node2 eth0   ...          <prefix>agg eth0 (optional aggregator)
 *   10.0.0.1 fd00::1      10.0.0.2 fd00::2                  10.0.0.254 fd00::fe
 *   lo: 10.244.1.1 fd00:244:1::1 (pod gateway)
 *      │ pod0 (host end, MAC ee:ee:ee:ee:ee:ee; route 10.244.1.10/32 dev pod0)
 *   <prefix>pod-a eth0 10.244.1.10/32 fd00:244:1::10/128  (default route via the gateway)
 *
 * Node i (1-based, in the order given) owns pod CIDRs 10.244.i.0/24 and fd00:244:i::/64; its j-th
 * pod (0-based) gets host part 10+j (".10", "::10", ...). Pods are routed, not bridged (Calico
 * style), so every packet between pods, even on one node, crosses the node's forward hook.
 * Every node routes the other nodes'
 * pod CIDRs via their underlay address, forwards IPv4 and IPv6, enables nf_conntrack_acct and
 * nf_conntrack_timestamp, and loads an nft table `inet fvt` whose forward chain has `ct` rules, so
 * conntrack tracks everything in the node (a namespace tracks nothing until some rule uses `ct`).
 * The aggregator namespace, when asked for, sits on the underlay and routes to every pod CIDR.
 *
 * Usage:
 *   const cluster = await NetnsCluster.create({ nodes: [
 *     { name: 'node1', pods: ['pod-a'] }, { name: 'node2', pods: ['pod-b'] }] });
 *   try {
 *     await cluster.exec('pod-a', ['ping', '-c1', cluster.pod('pod-b').ipv4]);
 *   } finally {
 *     await cluster.destroy();
 *   }
 *
 * Everything created is tracked: `destroy()` kills spawned processes (and any process left in
 * the namespaces) and deletes every namespace, even after a half-finished `create()`; it is
 * idempotent and also runs synchronously at process exit and on SIGINT/SIGTERM as a last resort.
 */
import { spawnSync } from 'node:child_process';
import {
  type ExecOptions,
  type ExecResult,
  execIn,
  type ManagedProcess,
  ProcessGroup,
  run,
  type SpawnOptions,
} from './exec.ts';
import { deleteNamespace, uniquePrefix } from './names.ts';

export interface NodeSpec {
  /** Logical name, e.g. "node1" ([a-z0-9-], unique in the cluster). */
  name: string;
  /** Logical names of the pods hosted on this node. */
  pods?: readonly string[];
}

export interface ClusterOptions {
  nodes: readonly NodeSpec[];
  /** Add an aggregator namespace on the underlay: `true` names it "agg". */
  aggregator?: boolean | string;
  /** Configure IPv6 addresses and routes as well as IPv4 (default true). */
  ipv6?: boolean;
  /** Namespace name prefix (default `uniquePrefix()`: "fvt<pid><rand>-"). */
  prefix?: string;
  /**
   * nft rules inserted at the top of each node's forward chain, e.g.
   * `tcp dport 9999 log prefix "DROP " group 5 drop`.
   */
  forwardRules?: readonly string[] | ((node: NodeInfo) => readonly string[]);
  /** Replace the whole per-node nft ruleset (must contain a `ct` expression for tracking). */
  nftRuleset?: (node: NodeInfo) => string;
}

export interface PodInfo {
  name: string;
  /** Full network namespace name. */
  ns: string;
  node: string;
  ipv4: string;
  /** "" when the cluster has no IPv6. */
  ipv6: string;
  gatewayIPv4: string;
  gatewayIPv6: string;
  /** Interface name inside the pod namespace. */
  ifname: 'eth0';
  /** Name of the pod's veth end inside the node namespace (MAC HOST_VETH_MAC). */
  hostIfname: string;
}

export interface NodeInfo {
  name: string;
  ns: string;
  /** 1-based position in `ClusterOptions.nodes`. */
  index: number;
  /** Underlay addresses (on eth0). */
  ipv4: string;
  ipv6: string;
  podCIDRv4: string;
  podCIDRv6: string;
  /** The node's address inside its pod CIDRs (on lo): the pods' gateway. */
  gatewayIPv4: string;
  gatewayIPv6: string;
  pods: PodInfo[];
}

export interface AggregatorInfo {
  name: string;
  ns: string;
  ipv4: string;
  ipv6: string;
}

const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;

/** MAC address of every pod's veth end in its node (as Calico does). */
export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';

/** The default nft ruleset of a node: accept everything, with `ct` rules so conntrack tracks. */
export function defaultNodeRuleset(forwardRules: readonly string[] = []): string {
  return [
    'table inet fvt {',
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    ...forwardRules.map((r) => `    ${r}`),
    '    ct state established,related counter accept',
    '    ct state new counter accept',
    '  }',
    '}',
    '',
  ].join('\n');
}

const live = new Set<NetnsCluster>();
let exitHookInstalled = false;

/**
 * Last-resort cleanup when a test process ends without calling destroy(): at exit, and on
 * SIGINT/SIGTERM (which would otherwise end the process without running exit handlers).
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.destroySync();
  });
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      for (const c of live) c.destroySync();
      process.exit(code);
    });
  }
}

export class NetnsCluster {
  readonly prefix: string;
  readonly ipv6: boolean;
  /** Name of the underlay namespace holding bridge br0. */
  readonly underlayNs: string;
  readonly nodes: NodeInfo[] = [];
  readonly aggregator: AggregatorInfo | undefined;
  /** Processes started with `spawn()`. */
  readonly processes = new ProcessGroup();
  private readonly created: string[] = [];
  private readonly byName = new Map<string, string>();
  private destroyed = false;

  private constructor(private readonly options: ClusterOptions) {
    this.prefix = options.prefix ?? uniquePrefix();
    this.ipv6 = options.ipv6 ?? true;
    this.underlayNs = `${this.prefix}net`;
    const seen = new Set<string>(['net']);
    const claim = (name: string): string => {
      if (!NAME_RE.test(name)) throw new Error(`invalid name "${name}": use [a-z0-9-]`);
      if (seen.has(name)) throw new Error(`duplicate name "${name}" in cluster spec`);
      seen.add(name);
      const ns = `${this.prefix}${name}`;
      this.byName.set(name, ns);
      return ns;
    };
    if (options.nodes.length === 0 || options.nodes.length > 250) throw new Error('a cluster needs 1..250 nodes');
    options.nodes.forEach((spec, i) => {
      const index = i + 1;
      const node: NodeInfo = {
        name: spec.name,
        ns: claim(spec.name),
        index,
        ipv4: `10.0.0.${index}`,
        ipv6: this.ipv6 ? `fd00::${index.toString(16)}` : '',
        podCIDRv4: `10.244.${index}.0/24`,
        podCIDRv6: this.ipv6 ? `fd00:244:${index.toString(16)}::/64` : '',
        gatewayIPv4: `10.244.${index}.1`,
        gatewayIPv6: this.ipv6 ? `fd00:244:${index.toString(16)}::1` : '',
        pods: [],
      };
      (spec.pods ?? []).forEach((podName, j) => {
        if (j > 200) throw new Error('at most 200 pods per node');
        node.pods.push({
          name: podName,
          ns: claim(podName),
          node: spec.name,
          ipv4: `10.244.${index}.${10 + j}`,
          ipv6: this.ipv6 ? `fd00:244:${index.toString(16)}::${10 + j}` : '',
          gatewayIPv4: node.gatewayIPv4,
          gatewayIPv6: node.gatewayIPv6,
          ifname: 'eth0',
          hostIfname: `pod${j}`,
        });
      });
      this.nodes.push(node);
    });
    if (options.aggregator) {
      const name = options.aggregator === true ? 'agg' : options.aggregator;
      this.aggregator = { name, ns: claim(name), ipv4: '10.0.0.254', ipv6: this.ipv6 ? 'fd00::fe' : '' };
    }
  }

  /**
   * Creates the namespaces, links, addresses, routes, sysctls and nft rules. On failure it tears
   * down whatever it created and rethrows.
   */
  static async create(options: ClusterOptions): Promise<NetnsCluster> {
    const cluster = new NetnsCluster(options);
    live.add(cluster);
    installExitHook();
    try {
      await cluster.build();
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  /** Every namespace of the cluster (underlay, nodes, pods, aggregator). */
  get namespaces(): string[] {
    return [...this.created];
  }

  /** The full namespace name of a logical name ("node1", "pod-a", "agg"); full names pass through. */
  ns(name: string): string {
    const ns = this.byName.get(name);
    if (ns !== undefined) return ns;
    if (name === 'net') return this.underlayNs;
    if (this.created.includes(name)) return name;
    throw new Error(`unknown namespace "${name}" in cluster ${this.prefix}`);
  }

  node(name: string): NodeInfo {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`unknown node "${name}"`);
    return n;
  }

  pod(name: string): PodInfo {
    for (const n of this.nodes) {
      const p = n.pods.find((x) => x.name === name);
      if (p) return p;
    }
    throw new Error(`unknown pod "${name}"`);
  }

  /** Runs a command inside the namespace of `name` (logical or full name). */
  exec(name: string, argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    return execIn(this.ns(name), argv, options);
  }

  /** Runs a bash script (set -e) inside the namespace of `name`. */
  sh(name: string, script: string, options?: ExecOptions): Promise<ExecResult> {
    return execIn(this.ns(name), ['bash', '-ec', script], options);
  }

  /** Starts a long-lived process in the namespace of `name`; it is killed by `destroy()`. */
  spawn(name: string, argv: readonly string[], options?: SpawnOptions): ManagedProcess {
    return this.processes.spawn(this.ns(name), argv, options);
  }

  /** Loads an nft ruleset (nft -f -) in the namespace of `name`. */
  async nft(name: string, ruleset: string): Promise<void> {
    await this.exec(name, ['nft', '-f', '-'], { input: ruleset });
  }

  /** Sets sysctls (`key=value`) in the namespace of `name`. */
  async sysctl(name: string, settings: Record<string, string | number>): Promise<void> {
    const args = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
    await this.exec(name, ['sysctl', '-qw', ...args]);
  }

  /**
   * Creates an extra, unconnected namespace `<prefix><name>` (loopback up, no DAD), tracked for
   * cleanup like the others; returns its full name. Use `exec`/`spawn` with `name` afterwards.
   */
  async createNamespace(name: string): Promise<string> {
    if (!NAME_RE.test(name)) throw new Error(`invalid name "${name}": use [a-z0-9-]`);
    if (this.byName.has(name) || name === 'net') throw new Error(`duplicate name "${name}"`);
    const ns = `${this.prefix}${name}`;
    this.byName.set(name, ns);
    await this.addNamespace(ns);
    return ns;
  }

  private async addNamespace(ns: string): Promise<void> {
    if (this.destroyed) throw new Error('cluster already destroyed');
    this.created.push(ns);
    await run(['ip', 'netns', 'add', ns]);
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    // No duplicate address detection: link-local addresses would stay "tentative" for ~1-2 s
    // and delay neighbour discovery of the first packets.
    await execIn(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
  }

  private async build(): Promise<void> {
    const v6 = this.ipv6;
    await this.addNamespace(this.underlayNs);
    for (const n of this.nodes) {
      await this.addNamespace(n.ns);
      for (const p of n.pods) await this.addNamespace(p.ns);
    }
    if (this.aggregator) await this.addNamespace(this.aggregator.ns);

    const lines: string[] = [];
    const net = this.underlayNs;
    lines.push(`ip -n ${net} link add br0 type bridge`, `ip -n ${net} link set br0 up`);
    const attach = (ns: string, port: string, v4: string, v6addr: string): void => {
      lines.push(
        `ip link add eth0 netns ${ns} type veth peer name ${port} netns ${net}`,
        `ip -n ${net} link set ${port} master br0`,
        `ip -n ${net} link set ${port} up`,
        `ip -n ${ns} addr add ${v4}/24 dev eth0`,
        `ip -n ${ns} link set eth0 up`,
      );
      if (v6) lines.push(`ip -n ${ns} addr add ${v6addr}/64 dev eth0 nodad`);
    };
    for (const n of this.nodes) {
      attach(n.ns, `n${n.index}`, n.ipv4, n.ipv6);
      lines.push(
        `ip netns exec ${n.ns} sysctl -qw net.ipv4.ip_forward=1 net.netfilter.nf_conntrack_acct=1 ` +
          `net.netfilter.nf_conntrack_timestamp=1`,
      );
      if (v6) lines.push(`ip netns exec ${n.ns} sysctl -qw net.ipv6.conf.all.forwarding=1`);
      // The node owns its pods' gateway addresses (on lo), like a CNI gateway interface.
      lines.push(`ip -n ${n.ns} addr add ${n.gatewayIPv4}/32 dev lo`);
      if (v6) lines.push(`ip -n ${n.ns} addr add ${n.gatewayIPv6}/128 dev lo`);
      for (const p of n.pods) {
        // Routed pods, Calico style: a host route per pod, and a permanent neighbour entry in the
        // pod for its gateway pointing at the host veth's fixed MAC. Every pod-to-pod packet,
        // even between pods of one node, is forwarded (and so tracked) by the node.
        lines.push(
          `ip link add eth0 netns ${p.ns} type veth peer name ${p.hostIfname} netns ${n.ns} address ${HOST_VETH_MAC}`,
          `ip -n ${n.ns} link set ${p.hostIfname} up`,
          `ip -n ${n.ns} route add ${p.ipv4}/32 dev ${p.hostIfname}`,
          `ip -n ${p.ns} addr add ${p.ipv4}/32 dev eth0`,
          `ip -n ${p.ns} link set eth0 up`,
          `ip -n ${p.ns} neigh add ${p.gatewayIPv4} lladdr ${HOST_VETH_MAC} dev eth0 nud permanent`,
          `ip -n ${p.ns} route add ${p.gatewayIPv4} dev eth0 scope link`,
          `ip -n ${p.ns} route add default via ${p.gatewayIPv4} dev eth0`,
        );
        if (v6) {
          lines.push(
            `ip -n ${n.ns} -6 route add ${p.ipv6}/128 dev ${p.hostIfname}`,
            `ip -n ${p.ns} addr add ${p.ipv6}/128 dev eth0 nodad`,
            `ip -n ${p.ns} neigh add ${p.gatewayIPv6} lladdr ${HOST_VETH_MAC} dev eth0 nud permanent`,
            `ip -n ${p.ns} -6 route add ${p.gatewayIPv6} dev eth0`,
            `ip -n ${p.ns} -6 route add default via ${p.gatewayIPv6} dev eth0`,
          );
        }
      }
    }
    if (this.aggregator) attach(this.aggregator.ns, 'agg', this.aggregator.ipv4, this.aggregator.ipv6);
    const routers = [...this.nodes.map((n) => n.ns), ...(this.aggregator ? [this.aggregator.ns] : [])];
    for (const ns of routers) {
      for (const other of this.nodes) {
        if (other.ns === ns || other.pods.length === 0) continue;
        lines.push(`ip -n ${ns} route add ${other.podCIDRv4} via ${other.ipv4}`);
        if (v6) lines.push(`ip -n ${ns} -6 route add ${other.podCIDRv6} via ${other.ipv6}`);
      }
    }
    await run(['bash', '-ec', lines.join('\n')]);

    for (const n of this.nodes) {
      const rules =
        typeof this.options.forwardRules === 'function' ? this.options.forwardRules(n) : (this.options.forwardRules ?? []);
      const ruleset = this.options.nftRuleset ? this.options.nftRuleset(n) : defaultNodeRuleset(rules);
      await this.nft(n.ns, ruleset);
    }
  }

  /**
   * Kills spawned processes and deletes every namespace created so far. Idempotent; never throws.
   */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.processes.killAll(1000).catch(() => undefined);
    for (const ns of [...this.created].reverse()) await deleteNamespace(ns).catch(() => undefined);
    this.created.length = 0;
    live.delete(this);
  }

  /** Synchronous last-resort cleanup (used at process exit). */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const p of this.processes.running) {
      try {
        if (p.pid !== undefined) process.kill(-p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const ns of [...this.created].reverse()) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
      for (const pid of pids.split('\n').map(Number)) {
        if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      }
      spawnSync('ip', ['netns', 'del', ns]);
    }
    this.created.length = 0;
    live.delete(this);
  }
}
