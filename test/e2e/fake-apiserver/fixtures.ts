/** Small builders of Kubernetes objects for tests against the fake API server. */
import type { KubeObject } from './object-store.ts';

export function pod(
  namespace: string,
  name: string,
  o: {
    ip?: string;
    ips?: string[];
    node?: string;
    labels?: Record<string, string>;
    phase?: string;
    hostNetwork?: boolean;
    ports?: { name?: string; containerPort: number; protocol?: string }[];
  } = {},
): KubeObject {
  const ips = o.ips ?? (o.ip !== undefined ? [o.ip] : []);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: o.labels ?? {} },
    spec: {
      nodeName: o.node ?? '',
      hostNetwork: o.hostNetwork ?? false,
      containers: [{ name: 'main', image: 'busybox', ports: o.ports ?? [] }],
    },
    status: {
      phase: o.phase ?? 'Running',
      ...(ips.length > 0 ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
    },
  };
}

export function node(name: string, o: { podCIDRs?: string[]; internalIPs?: string[] } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: { podCIDRs: o.podCIDRs ?? [], ...(o.podCIDRs?.length ? { podCIDR: o.podCIDRs[0] } : {}) },
    status: { addresses: (o.internalIPs ?? []).map((address) => ({ type: 'InternalIP', address })) },
  };
}

export function service(
  namespace: string,
  name: string,
  o: { clusterIPs?: string[]; type?: string; ports: { name?: string; port: number; protocol?: string; nodePort?: number; targetPort?: number | string }[] },
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: {
      type: o.type ?? 'ClusterIP',
      ...(o.clusterIPs ? { clusterIP: o.clusterIPs[0], clusterIPs: o.clusterIPs } : {}),
      ports: o.ports,
    },
  };
}

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function networkPolicy(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}
