/**
 * The resource types the fake Kubernetes API server serves, as the discovery documents describe them.
 * Paths follow the Kubernetes REST layout:
 *   core:     /api/v1[/namespaces/{ns}]/{plural}[/{name}[/status]]
 *   grouped:  /apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/status]]
 */

export interface ResourceType {
  /** '' for the core ("legacy") group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /** Field selector labels the real API server accepts for this type (besides metadata.name/namespace). */
  readonly fieldLabels: readonly string[];
  readonly hasStatus: boolean;
}

export const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

export const RESOURCE_TYPES: readonly ResourceType[] = [
  {
    group: '', version: 'v1', plural: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'],
    fieldLabels: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName',
      'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
    hasStatus: true,
  },
  {
    group: '', version: 'v1', plural: 'services', singular: 'service', kind: 'Service', namespaced: true,
    shortNames: ['svc'], fieldLabels: ['spec.clusterIP', 'spec.type'], hasStatus: true,
  },
  {
    group: '', version: 'v1', plural: 'endpoints', singular: 'endpoints', kind: 'Endpoints', namespaced: true,
    shortNames: ['ep'], fieldLabels: [], hasStatus: false,
  },
  {
    group: '', version: 'v1', plural: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'],
    fieldLabels: ['spec.unschedulable'], hasStatus: true,
  },
  {
    group: '', version: 'v1', plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false,
    shortNames: ['ns'], fieldLabels: ['status.phase'], hasStatus: true,
  },
  {
    group: '', version: 'v1', plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true,
    shortNames: ['cm'], fieldLabels: [], hasStatus: false,
  },
  {
    group: '', version: 'v1', plural: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true,
    shortNames: [], fieldLabels: ['type'], hasStatus: false,
  },
  {
    group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', singular: 'networkpolicy',
    kind: 'NetworkPolicy', namespaced: true, shortNames: ['netpol'], fieldLabels: [], hasStatus: false,
  },
  {
    group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', singular: 'endpointslice',
    kind: 'EndpointSlice', namespaced: true, shortNames: [], fieldLabels: ['addressType'], hasStatus: false,
  },
];

export function apiVersionOf(rt: ResourceType): string {
  return rt.group === '' ? rt.version : `${rt.group}/${rt.version}`;
}

/** Finds a resource type by kind ("Pod"), plural ("pods"), singular or short name, case-insensitively. */
export function findResourceType(nameOrKind: string): ResourceType | undefined {
  const n = nameOrKind.toLowerCase();
  return RESOURCE_TYPES.find(
    (rt) => rt.kind.toLowerCase() === n || rt.plural === n || rt.singular === n || rt.shortNames.includes(n),
  );
}

export function findByGroupVersionPlural(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((rt) => rt.group === group && rt.version === version && rt.plural === plural);
}

/** The groups other than core, each with its versions, for /apis. */
export function apiGroups(): { name: string; versions: string[] }[] {
  const groups = new Map<string, Set<string>>();
  for (const rt of RESOURCE_TYPES) {
    if (rt.group === '') continue;
    const versions = groups.get(rt.group) ?? new Set<string>();
    versions.add(rt.version);
    groups.set(rt.group, versions);
  }
  return [...groups].map(([name, versions]) => ({ name, versions: [...versions] }));
}
