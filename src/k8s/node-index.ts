/**
 * Nodes by name, by address and by Pod subnet. `lookupPodSubnet(ip)` answers Antrea's
 * LookupIPInPodSubnets over every Node's podCIDRs: is the address inside a Pod subnet, is it that
 * subnet's gateway, and which Node owns the subnet.
 */
import { CidrTable, parseCidr, parseIP, type IPValue } from './ip.ts';
import type { NodeInfo, PodSubnetMatch } from './types.ts';

const NOT_IN_POD_SUBNET: PodSubnetMatch = { inPodSubnet: false, isGateway: false, nodeName: undefined };

export class NodeIndex {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly subnets = new CidrTable<NodeInfo>();
  private readonly gateways = new Map<string, NodeInfo>();
  private readonly addresses = new Map<string, NodeInfo>();
  private dirty = false;

  upsert(node: NodeInfo): 'add' | 'update' {
    const existed = this.nodes.has(node.name);
    this.nodes.set(node.name, node);
    this.dirty = true;
    return existed ? 'update' : 'add';
  }

  delete(name: string): boolean {
    const existed = this.nodes.delete(name);
    if (existed) this.dirty = true;
    return existed;
  }

  /** Node changes are rare; the lookup tables are rebuilt on the first query after one. */
  private rebuild(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.subnets.clear();
    this.gateways.clear();
    this.addresses.clear();
    const byName = [...this.nodes.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const node of byName) {
      for (const text of node.podCIDRs) {
        const cidr = parseCidr(text);
        if (cidr !== undefined) this.subnets.set(cidr, node);
      }
      for (const gw of node.gatewayIPs) this.gateways.set(gw, node);
      for (const ip of [...node.internalIPs, ...node.externalIPs]) this.addresses.set(ip, node);
    }
  }

  lookupPodSubnet(ip: string, parsed?: IPValue): PodSubnetMatch {
    this.rebuild();
    const gw = this.gateways.get(ip);
    if (gw !== undefined) return { inPodSubnet: true, isGateway: true, nodeName: gw.name };
    const value = parsed ?? parseIP(ip);
    if (value === undefined) return NOT_IN_POD_SUBNET;
    const node = this.subnets.lookup(value);
    if (node === undefined) return NOT_IN_POD_SUBNET;
    return { inPodSubnet: true, isGateway: false, nodeName: node.name };
  }

  /** Some Node has a podCIDR. */
  get hasPodSubnets(): boolean {
    this.rebuild();
    return this.subnets.size > 0;
  }

  /** The Node that owns `ip` as one of its InternalIP/ExternalIP addresses. */
  nodeByAddress(ip: string): NodeInfo | undefined {
    this.rebuild();
    return this.addresses.get(ip);
  }

  get(name: string): NodeInfo | undefined {
    return this.nodes.get(name);
  }

  list(): NodeInfo[] {
    return [...this.nodes.values()];
  }

  get size(): number {
    return this.nodes.size;
  }
}
