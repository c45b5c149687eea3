/**
 * The defaulting the real API server applies on create/update, for the fields our clients read:
 * Namespace name label and phase, Service ClusterIP / NodePort allocation and port defaults,
 * Secret stringData, NetworkPolicy policyTypes and port protocols, Pod status.podIP <-> podIPs and
 * Node spec.podCIDR <-> podCIDRs mirroring (the v1 conversion keeps the singular and plural in step).
 */
import type { KubeObject } from './object-store.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const objAt = (parent: Obj, key: string): Obj => {
  const v = parent[key];
  if (isObj(v)) return v;
  const fresh: Obj = {};
  parent[key] = fresh;
  return fresh;
};

export class Allocator {
  private nextClusterIP = 10; // 10.96.0.10 onwards; 10.96.0.1 is the "kubernetes" Service in a real cluster
  private nextNodePort = 30000;

  clusterIP(): string {
    const n = this.nextClusterIP++;
    return `10.96.${(n >> 8) & 0xff}.${n & 0xff}`;
  }

  nodePort(): number {
    return this.nextNodePort++;
  }
}

function defaultPorts(ports: unknown): void {
  if (!Array.isArray(ports)) return;
  for (const p of ports) if (isObj(p) && p.protocol === undefined) p.protocol = 'TCP';
}

export function applyDefaults(kind: string, obj: KubeObject, alloc: Allocator, prev: KubeObject | undefined): void {
  const o = obj as Obj;
  switch (kind) {
    case 'Namespace': {
      obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name ?? '' };
      const spec = objAt(o, 'spec');
      spec.finalizers ??= ['kubernetes'];
      objAt(o, 'status').phase ??= 'Active';
      break;
    }
    case 'Pod': {
      const spec = objAt(o, 'spec');
      if (Array.isArray(spec.containers)) for (const c of spec.containers) if (isObj(c)) defaultPorts(c.ports);
      const status = objAt(o, 'status');
      status.phase ??= 'Pending';
      if (typeof status.podIP === 'string' && status.podIP !== '' && !Array.isArray(status.podIPs)) {
        status.podIPs = [{ ip: status.podIP }];
      } else if (Array.isArray(status.podIPs) && status.podIPs.length > 0 && status.podIP === undefined) {
        const first = status.podIPs[0] as Obj;
        status.podIP = first.ip;
      }
      break;
    }
    case 'Node': {
      const spec = objAt(o, 'spec');
      if (typeof spec.podCIDR === 'string' && !Array.isArray(spec.podCIDRs)) spec.podCIDRs = [spec.podCIDR];
      else if (Array.isArray(spec.podCIDRs) && spec.podCIDRs.length > 0 && spec.podCIDR === undefined) {
        spec.podCIDR = spec.podCIDRs[0];
      }
      break;
    }
    case 'Service': {
      const spec = objAt(o, 'spec');
      spec.type ??= 'ClusterIP';
      const prevSpec = isObj(prev?.spec) ? prev.spec : undefined;
      if (spec.type !== 'ExternalName') {
        if (spec.clusterIP === undefined && Array.isArray(spec.clusterIPs)) spec.clusterIP = spec.clusterIPs[0];
        if (spec.clusterIP === undefined || spec.clusterIP === '') {
          spec.clusterIP = prevSpec?.clusterIP ?? alloc.clusterIP();
        }
        if (!Array.isArray(spec.clusterIPs)) spec.clusterIPs = [spec.clusterIP];
        spec.ipFamilies ??= (spec.clusterIPs as string[]).map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4'));
      }
      if (Array.isArray(spec.ports)) {
        for (const p of spec.ports) {
          if (!isObj(p)) continue;
          p.protocol ??= 'TCP';
          p.targetPort ??= p.port;
          if ((spec.type === 'NodePort' || spec.type === 'LoadBalancer') && p.nodePort === undefined) {
            p.nodePort = alloc.nodePort();
          }
        }
      }
      break;
    }
    case 'Secret': {
      o.type ??= 'Opaque';
      if (isObj(o.stringData)) {
        const data = objAt(o, 'data');
        for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
        delete o.stringData;
      }
      break;
    }
    case 'NetworkPolicy': {
      const spec = objAt(o, 'spec');
      spec.podSelector ??= {};
      if (!Array.isArray(spec.policyTypes)) {
        const types = ['Ingress'];
        if (Array.isArray(spec.egress) && spec.egress.length > 0) types.push('Egress');
        spec.policyTypes = types;
      }
      for (const dir of ['ingress', 'egress']) {
        const rules = spec[dir];
        if (Array.isArray(rules)) for (const r of rules) if (isObj(r)) defaultPorts(r.ports);
      }
      break;
    }
  }
}
