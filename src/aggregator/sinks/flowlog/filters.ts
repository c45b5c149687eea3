/**
 * flowLogger.filters: a flow is logged when it matches any filter (none: every flow). A filter
 * matches when each of its non-empty action lists contains the flow's rule action of that
 * direction (as Antrea's LogExporter.applyFilters). Action names: None 0, Allow 1, Drop 2, Reject 3.
 */
import type { FlowLoggerFilter, NetworkPolicyRuleActionName } from '../../../config/aggregator-types.ts';

const ACTION_CODES: Readonly<Record<NetworkPolicyRuleActionName, number>> = { None: 0, Allow: 1, Drop: 2, Reject: 3 };

export interface RuleActions {
  readonly ingressNetworkPolicyRuleAction: number;
  readonly egressNetworkPolicyRuleAction: number;
}

export type FlowLogFilter = (flow: RuleActions) => boolean;

export function compileFlowLogFilters(filters: readonly FlowLoggerFilter[]): FlowLogFilter {
  if (filters.length === 0) return () => true;
  const compiled = filters.map((f) => ({
    ingress: new Set(f.ingressNetworkPolicyRuleActions.map((a) => ACTION_CODES[a] ?? 255)),
    egress: new Set(f.egressNetworkPolicyRuleActions.map((a) => ACTION_CODES[a] ?? 255)),
  }));
  return (flow) => compiled.some((f) =>
    (f.ingress.size === 0 || f.ingress.has(flow.ingressNetworkPolicyRuleAction))
    && (f.egress.size === 0 || f.egress.has(flow.egressNetworkPolicyRuleAction)));
}
