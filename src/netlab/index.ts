/**
 * A small Kubernetes-like lab of network namespaces on the real kernel (nodes, routed pods, an
 * aggregator namespace, real conntrack): used by the end-to-end tests and by `flowvis demo`.
 * See cluster.ts for the topology; every namespace is named with a unique prefix and torn down.
 */
export * from './cluster.ts';
export * from './exec.ts';
export * from './names.ts';
