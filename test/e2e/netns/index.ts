/** Network-namespace test harness: see cluster.ts for the topology and usage. */
export {
  type AggregatorInfo,
  type ClusterOptions,
  defaultNodeRuleset,
  NetnsCluster,
  type NodeInfo,
  type NodeSpec,
  type PodInfo,
} from './cluster.ts';
export {
  execIn,
  type ExecOptions,
  type ExecResult,
  inNamespace,
  ManagedProcess,
  ProcessGroup,
  REPO_ROOT,
  run,
  shIn,
  type SpawnOptions,
  waitFor,
} from './exec.ts';
export { cleanupStaleNamespaces, deleteNamespace, listNamespaces, namespaceExists, uniquePrefix } from './names.ts';
export { dumpConntrackIn, listConntrackExtended, type ExtendedConntrackLine } from './conntrack-tools.ts';
