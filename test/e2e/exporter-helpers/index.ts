/**
 * Helpers for end-to-end tests of the flow exporter (and later the aggregator) on network
 * namespaces: the fake API server as a process filled over HTTP, agent configuration, exporter and
 * collector processes, flow records, conntrack matching, socat traffic and bounded polling.
 */
export { agentConfigYaml, type AgentConfigOptions } from './agent-config.ts';
export { clusterObjects, type ClusterObjectsOptions, type PodMeta } from './cluster-objects.ts';
export { CollectorProcess, type CollectorProcessOptions } from './collector-process.ts';
export { canonicalIP, conntrackEntryFor, matchesTuple, type ConntrackCounters } from './conntrack-match.ts';
export { ExporterProcess, parsePrometheusText, type ExporterProcessOptions } from './exporter-process.ts';
export { FakeApiServerProcess, resourcePath, type ApiResponse, type FakeApiServerProcessOptions } from './fake-apiserver-process.ts';
export {
  big, fiveTuple, num, parseRecordLine, sameTuple, str, summarize, withTuple,
  type FieldValue, type FiveTuple, type FlowRecord,
} from './flow-records.ts';
export { agentObservationDomainId, fnv1 } from './fnv1.ts';
export { delay, pollUntil, type PollOptions } from './poll.ts';
export { runClient, socatConnectAddress, startEchoServer, type ClientOptions, type Family, type Proto } from './traffic.ts';
export { WorkDir } from './workdir.ts';
