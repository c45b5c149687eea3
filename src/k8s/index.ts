/** Kubernetes metadata sources (informers or a static inventory file) behind one interface. */
export type { MetadataSource, MetadataView } from './metadata-source.ts';
export * from './types.ts';
export { ClusterState, type ClusterStateOptions } from './cluster-state.ts';
export { KubernetesMetadataSource, INFORMER_RESOURCES, type InformerResource, type InformerStats, type KubernetesSourceOptions } from './kubernetes-source.ts';
export {
  StaticInventorySource,
  parseInventory,
  validateInventory,
  applyInventory,
  type InventoryContents,
  type StaticInventoryOptions,
} from './static-inventory.ts';
export { PodStore, DELETED_POD_RETENTION_SECONDS, type PodTimes } from './pod-store.ts';
export { ServiceIndex, formatServicePortName } from './service-index.ts';
export { NodeIndex } from './node-index.ts';
export { classifyFlowType, FlowType, type FlowTypeValue, type FlowTypeInput, type FlowTypeOptions } from './flow-type.ts';
export { compileLabelSelector, type LabelMatcher } from './label-selector.ts';
export { normalizeIP, parseIP, parseCidr, cidrContains, CidrTable, type Cidr, type IPValue } from './ip.ts';
export {
  podFromApi,
  serviceFromApi,
  nodeFromApi,
  namespaceFromApi,
  networkPolicyFromApi,
} from './from-api-objects.ts';
