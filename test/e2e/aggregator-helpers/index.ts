/**
 * Helpers for end-to-end tests of the Flow Aggregator (and of the whole pipeline) on network
 * namespaces: its configuration, the aggregator process and its API through `flowvis get`, a
 * JSON-lines receiver, Service data paths in node namespaces, and `startPipeline`, which starts the
 * fake API server, the aggregator, its downstream collector and one agent per node.
 */
export { aggregatorConfigYaml, type AggregatorConfigOptions } from './aggregator-config.ts';
export {
  AggregatorProcess, type AggregatorProcessOptions, type ApiFlowRecord, type FlowRecordFilter, type RecordMetrics,
} from './aggregator-process.ts';
export { parseJsonExact } from './exact-json.ts';
export { aggregatorObservationDomainId, fnv1Bytes, uuidOctets } from './fnv1-bytes.ts';
export { JsonLinesServer, parseJsonLine, type JsonLineRecord } from './json-lines-server.ts';
export { configMap, networkPolicy, service } from './k8s-objects.ts';
export {
  AGGREGATOR_CLUSTER_IP, AGGREGATOR_NAMESPACE, AGGREGATOR_SERVICE, aggregatorServiceObject, DOWNSTREAM_IPFIX_PORT,
  DOWNSTREAM_JSON_PORT, IPFIX_PORT, Pipeline, startPipeline, type Downstream, type PipelineOptions,
} from './pipeline.ts';
export { dnatNodeOutput, dnatPodService, routeServiceRange, SERVICE_CIDR_V4, type PodServiceRoute } from './service-routes.ts';
export { AGGREGATOR_TEMPLATE_ID, aggregatorTemplateElements } from './aggregator-template.ts';
