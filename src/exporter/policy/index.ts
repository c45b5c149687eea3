/** Kubernetes NetworkPolicy evaluation for the node agent's flow records. */
export { NetworkPolicyEvaluator, evaluateNetworkPolicies, type PolicyMetadata } from './evaluator.ts';
export {
  NetworkPolicyType,
  RuleAction,
  NOT_ISOLATED,
  policyRecordFields,
  type PolicyVerdict,
  type PolicyConnection,
  type PolicyEvaluation,
} from './types.ts';
