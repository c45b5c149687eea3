/**
 * StaticInventorySource: Kubernetes metadata from a YAML inventory file (format in
 * static-inventory-schema.ts). The file is validated with zod plus cross-item checks; every
 * problem is reported with the item it is in, e.g.
 *   pods[3] (default/web-1): ips[0]: invalid IP address "10.0.0.300"
 * `reload()` re-reads the file and applies the difference, so change listeners see adds, updates
 * and deletes as they would from informers.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { ZodIssue } from 'zod';
import { MetadataError } from '../errors.ts';
import { ClusterState, type ClusterStateOptions } from './cluster-state.ts';
import { networkPolicyFromApi } from './from-api-objects.ts';
import { firstHostAddress, normalizeIP, parseCidr } from './ip.ts';
import type { MetadataSource } from './metadata-source.ts';
import { servicePorts } from './service-index.ts';
import { inventorySchema, type Inventory } from './static-inventory-schema.ts';
import type { NamespaceInfo, NetworkPolicy, NodeInfo, PodInfo, ServiceInfo } from './types.ts';

export interface InventoryContents {
  readonly nodes: NodeInfo[];
  readonly pods: { pod: PodInfo; creationTimestamp: number }[];
  readonly services: ServiceInfo[];
  readonly namespaces: NamespaceInfo[];
  readonly networkPolicies: NetworkPolicy[];
}

type Raw = Record<string, unknown>;

function itemLabel(raw: unknown, section: string, index: number): string {
  const items = (raw as Raw | null)?.[section];
  const item = Array.isArray(items) ? (items[index] as Raw | undefined) : undefined;
  if (item === null || typeof item !== 'object') return '';
  const meta = (item.metadata ?? item) as Raw;
  const name = typeof meta.name === 'string' ? meta.name : undefined;
  if (name === undefined) return '';
  if (section === 'nodes' || section === 'namespaces') return ` (${name})`;
  const ns = typeof meta.namespace === 'string' ? meta.namespace : 'default';
  return ` (${ns}/${name})`;
}

function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

/** "pods[3] (default/web-1): ips[0]: invalid IP address ..." */
export function describeIssue(raw: unknown, issue: Pick<ZodIssue, 'path' | 'message'>): string {
  const [section, index, ...rest] = issue.path;
  if (typeof section !== 'string') return issue.message;
  if (typeof index !== 'number') return `${formatPath(issue.path)}: ${issue.message}`;
  const where = `${section}[${index}]${itemLabel(raw, section, index)}`;
  return rest.length === 0 ? `${where}: ${issue.message}` : `${where}: ${formatPath(rest)}: ${issue.message}`;
}

function fail(source: string, problems: string[]): never {
  const shown = problems.slice(0, 20);
  const more = problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : '';
  throw new MetadataError(
    'INVENTORY_INVALID',
    `invalid inventory ${source}:\n  ${shown.join('\n  ')}${more}`,
    { source, problems: problems.length, first: problems[0] },
  );
}

/** Parses and validates inventory YAML text; throws MetadataError('INVENTORY_INVALID') naming every bad item. */
export function parseInventory(text: string, source = '<inventory>'): InventoryContents {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0];
    throw new MetadataError('INVENTORY_YAML', `invalid YAML in inventory ${source}: ${e.message}`, {
      source,
      line: pos?.line,
      column: pos?.col,
    });
  }
  return validateInventory(doc.toJS() ?? {}, source);
}

export function validateInventory(raw: unknown, source = '<inventory>'): InventoryContents {
  const parsed = inventorySchema.safeParse(raw);
  if (!parsed.success) fail(source, parsed.error.issues.map((i) => describeIssue(raw, i)));
  const problems: string[] = [];
  const contents = toContents(parsed.data, raw, problems);
  if (problems.length > 0) fail(source, problems);
  return contents;
}

function toContents(inv: Inventory, raw: unknown, problems: string[]): InventoryContents {
  const where = (section: string, i: number): string => `${section}[${i}]${itemLabel(raw, section, i)}`;
  const firstSeen = new Map<string, string>();
  const unique = (kind: string, key: string, at: string): void => {
    const prev = firstSeen.get(`${kind}|${key}`);
    if (prev !== undefined) problems.push(`${at}: duplicate ${kind} ${key} (first defined at ${prev})`);
    else firstSeen.set(`${kind}|${key}`, at);
  };

  const nodes: NodeInfo[] = inv.nodes.map((n, i) => {
    unique('node', n.name, where('nodes', i));
    const cidrs = [...(n.podCIDR !== undefined ? [n.podCIDR] : []), ...(n.podCIDRs ?? [])].map((c) => parseCidr(c)!);
    const podCIDRs = [...new Set(cidrs.map((c) => c.text))];
    for (const c of podCIDRs) unique('podCIDR', c, where('nodes', i));
    return {
      name: n.name,
      uid: n.uid ?? `static:${n.name}`,
      internalIPs: n.ips.map((x) => normalizeIP(x)!),
      externalIPs: n.externalIPs.map((x) => normalizeIP(x)!),
      podCIDRs,
      gatewayIPs: n.gatewayIPs?.map((x) => normalizeIP(x)!) ?? cidrs.map(firstHostAddress),
    };
  });
  const nodeNames = new Set(nodes.map((n) => n.name));

  const pods = inv.pods.map((p, i) => {
    const at = where('pods', i);
    unique('pod', `${p.namespace}/${p.name}`, at);
    const ips = [...new Set([...(p.ip !== undefined ? [p.ip] : []), ...(p.ips ?? [])].map((x) => normalizeIP(x)!))];
    for (const ip of ips) unique('pod IP', ip, at);
    if (p.node !== '' && nodes.length > 0 && !nodeNames.has(p.node)) {
      problems.push(`${at}: node ${JSON.stringify(p.node)} is not in nodes`);
    }
    const pod: PodInfo = {
      uid: p.uid ?? `static:${p.namespace}/${p.name}`,
      name: p.name,
      namespace: p.namespace,
      nodeName: p.node,
      ips,
      labels: p.labels,
      containerPorts: p.containerPorts.map((c) => ({ name: c.name, containerPort: c.containerPort, protocol: c.protocol })),
    };
    const creationTimestamp = p.creationTimestamp !== undefined ? Date.parse(p.creationTimestamp) / 1000 : 0;
    return { pod, creationTimestamp };
  });

  const services: ServiceInfo[] = inv.services.map((s, i) => {
    const at = where('services', i);
    unique('service', `${s.namespace}/${s.name}`, at);
    const clusterIPs = [
      ...new Set([...(s.clusterIP !== undefined ? [s.clusterIP] : []), ...(s.clusterIPs ?? [])].map((x) => normalizeIP(x)!)),
    ];
    const externalIPs = s.externalIPs.map((x) => normalizeIP(x)!);
    for (const port of s.ports) {
      for (const ip of [...clusterIPs, ...externalIPs]) unique('service address', `${ip}:${port.port}/${port.protocol}`, at);
      if (port.nodePort !== undefined) unique('nodePort', `${port.nodePort}/${port.protocol}`, at);
    }
    return { namespace: s.namespace, name: s.name, clusterIPs, externalIPs, ports: servicePorts(s.namespace, s.name, s.ports) };
  });

  const networkPolicies: NetworkPolicy[] = inv.networkPolicies.map((np, i) => {
    const at = where('networkPolicies', i);
    unique('networkPolicy', `${np.metadata.namespace}/${np.metadata.name}`, at);
    const uid = np.metadata.uid ?? `static:${np.metadata.namespace}/${np.metadata.name}`;
    return networkPolicyFromApi({ ...np, metadata: { ...np.metadata, uid } }) as NetworkPolicy;
  });

  const namespaces = new Map<string, NamespaceInfo>();
  inv.namespaces.forEach((ns, i) => {
    unique('namespace', ns.name, where('namespaces', i));
    namespaces.set(ns.name, { name: ns.name, labels: { ...ns.labels, 'kubernetes.io/metadata.name': ns.name } });
  });
  const used = [...pods.map((p) => p.pod.namespace), ...services.map((s) => s.namespace), ...networkPolicies.map((n) => n.namespace)];
  for (const name of used) {
    if (!namespaces.has(name)) namespaces.set(name, { name, labels: { 'kubernetes.io/metadata.name': name } });
  }
  return { nodes, pods, services, namespaces: [...namespaces.values()], networkPolicies };
}

/** Applies inventory contents to a ClusterState: upserts everything, deletes what is no longer listed. */
export function applyInventory(state: ClusterState, inv: InventoryContents): void {
  const keepNodes = new Set(inv.nodes.map((n) => n.name));
  for (const n of state.listNodes()) if (!keepNodes.has(n.name)) state.deleteNode(n.name);
  for (const n of inv.nodes) state.upsertNode(n);

  const keepNs = new Set(inv.namespaces.map((n) => n.name));
  for (const n of state.listNamespaces()) if (!keepNs.has(n.name)) state.deleteNamespace(n.name);
  for (const n of inv.namespaces) state.upsertNamespace(n);

  const keepPods = new Set(inv.pods.map((p) => p.pod.uid));
  for (const p of state.listPods()) if (!keepPods.has(p.uid)) state.deletePod(p);
  for (const { pod, creationTimestamp } of inv.pods) state.upsertPod(pod, { pending: false, creationTimestamp });

  const keepSvc = new Set(inv.services.map((s) => `${s.namespace}/${s.name}`));
  for (const s of state.listServices()) if (!keepSvc.has(`${s.namespace}/${s.name}`)) state.deleteService(s.namespace, s.name);
  for (const s of inv.services) state.upsertService(s);

  const keepNp = new Set(inv.networkPolicies.map((n) => `${n.namespace}/${n.name}`));
  for (const n of state.listNetworkPolicies()) {
    if (!keepNp.has(`${n.namespace}/${n.name}`)) state.deleteNetworkPolicy(n.namespace, n.name);
  }
  for (const n of inv.networkPolicies) state.upsertNetworkPolicy(n);
}

export interface StaticInventoryOptions extends ClusterStateOptions {
  /** The file to read; without it the source is filled from `text` or `inventory`. */
  path?: string;
  text?: string;
  inventory?: unknown;
}

export class StaticInventorySource extends ClusterState implements MetadataSource {
  readonly kind = 'static' as const;
  private readonly path: string | undefined;
  private loaded = false;

  constructor(opts: StaticInventoryOptions) {
    super(opts);
    this.path = opts.path;
    if (opts.path === undefined) {
      const inv =
        opts.text !== undefined ? parseInventory(opts.text) : validateInventory(opts.inventory ?? {}, '<inventory>');
      applyInventory(this, inv);
      this.loaded = true;
    }
  }

  /** Reads and validates the file, then fills the state. */
  static async fromFile(path: string, opts: ClusterStateOptions = {}): Promise<StaticInventorySource> {
    const src = new StaticInventorySource({ ...opts, path });
    await src.start();
    return src;
  }

  async start(): Promise<void> {
    if (!this.loaded) await this.reload();
  }

  /** Re-reads the file and applies the difference (listeners see the changes). Invalid files change nothing. */
  async reload(): Promise<void> {
    if (this.path === undefined) return;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      throw new MetadataError('INVENTORY_READ', `cannot read inventory ${this.path}: ${(err as Error).message}`, {
        source: this.path,
      }, { cause: err });
    }
    applyInventory(this, parseInventory(text, this.path));
    this.loaded = true;
  }

  get synced(): boolean {
    return this.loaded;
  }

  async waitForSync(): Promise<void> {
    if (!this.loaded) await this.start();
  }

  async stop(): Promise<void> {}
}
