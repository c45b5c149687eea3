/**
 * Services indexed by the addresses a client dials: ClusterIP(s), external and load-balancer IPs
 * (ip:port/protocol), and NodePorts (port/protocol on any Node address).
 *
 * The name reported for a Service port is Kubernetes' ServicePortName string
 * (k8s.io/kubernetes pkg/proxy ServicePortName.String()):
 *   "<namespace>/<name>" + (portName === "" ? "" : ":" + portName)
 */
import { PROTOCOL_NUMBERS, type L4Protocol, type ServiceInfo, type ServicePortInfo } from './types.ts';

export function formatServicePortName(namespace: string, name: string, portName: string): string {
  return portName === '' ? `${namespace}/${name}` : `${namespace}/${name}:${portName}`;
}

const addrKey = (ip: string, port: number, protocolNumber: number): string => `${ip}|${port}|${protocolNumber}`;
const nodePortKey = (port: number, protocolNumber: number): number => port * 256 + protocolNumber;

export class ServiceIndex {
  private readonly services = new Map<string, ServiceInfo>();
  private readonly byAddress = new Map<string, ServicePortInfo>();
  private readonly byNodePort = new Map<number, ServicePortInfo>();

  /** Adds or replaces a Service (keyed by namespace/name). */
  upsert(svc: ServiceInfo): 'add' | 'update' {
    const key = `${svc.namespace}/${svc.name}`;
    const prev = this.services.get(key);
    if (prev !== undefined) this.unindex(prev);
    this.services.set(key, svc);
    for (const p of svc.ports) {
      const proto = PROTOCOL_NUMBERS[p.protocol];
      for (const ip of [...svc.clusterIPs, ...svc.externalIPs]) this.byAddress.set(addrKey(ip, p.port, proto), p);
      if (p.nodePort !== undefined) this.byNodePort.set(nodePortKey(p.nodePort, proto), p);
    }
    return prev === undefined ? 'add' : 'update';
  }

  delete(namespace: string, name: string): boolean {
    const key = `${namespace}/${name}`;
    const prev = this.services.get(key);
    if (prev === undefined) return false;
    this.unindex(prev);
    this.services.delete(key);
    return true;
  }

  private unindex(svc: ServiceInfo): void {
    for (const p of svc.ports) {
      const proto = PROTOCOL_NUMBERS[p.protocol];
      for (const ip of [...svc.clusterIPs, ...svc.externalIPs]) {
        const k = addrKey(ip, p.port, proto);
        if (this.byAddress.get(k) === p) this.byAddress.delete(k);
      }
      if (p.nodePort !== undefined) {
        const k = nodePortKey(p.nodePort, proto);
        if (this.byNodePort.get(k) === p) this.byNodePort.delete(k);
      }
    }
  }

  /** The Service port behind ClusterIP/external IP `ip`:`port` for IANA protocol `protocolNumber`. */
  lookup(ip: string, port: number, protocolNumber: number): ServicePortInfo | undefined {
    return this.byAddress.get(addrKey(ip, port, protocolNumber));
  }

  lookupNodePort(port: number, protocolNumber: number): ServicePortInfo | undefined {
    return this.byNodePort.get(nodePortKey(port, protocolNumber));
  }

  get(namespace: string, name: string): ServiceInfo | undefined {
    return this.services.get(`${namespace}/${name}`);
  }

  list(): ServiceInfo[] {
    return [...this.services.values()];
  }

  get size(): number {
    return this.services.size;
  }
}

/** Builds the port entries of a Service (protocol defaults to TCP as in the API). */
export function servicePorts(
  namespace: string,
  name: string,
  ports: readonly { name?: string; port: number; protocol?: L4Protocol; nodePort?: number }[],
): ServicePortInfo[] {
  return ports.map((p) => {
    const portName = p.name ?? '';
    return {
      namespace,
      name,
      portName,
      port: p.port,
      protocol: p.protocol ?? 'TCP',
      nodePort: p.nodePort,
      servicePortName: formatServicePortName(namespace, name, portName),
    };
  });
}
