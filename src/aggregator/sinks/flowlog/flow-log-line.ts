/**
 * One flow as one line of the flow log, with the 31 columns of Antrea's flowlogger (logger.go
 * WriteRecord), in this order:
 *
 *   flowStartSeconds,flowEndSeconds,sourceIP,destinationIP,sourceTransportPort,
 *   destinationTransportPort,protocolIdentifier,sourcePodName,sourcePodNamespace,sourceNodeName,
 *   destinationPodName,destinationPodNamespace,destinationNodeName,destinationClusterIP,
 *   destinationServicePort,destinationServicePortName,ingressNetworkPolicyName,
 *   ingressNetworkPolicyNamespace,ingressNetworkPolicyRuleName,ingressNetworkPolicyRuleAction,
 *   ingressNetworkPolicyType,egressNetworkPolicyName,egressNetworkPolicyNamespace,
 *   egressNetworkPolicyRuleName,egressNetworkPolicyRuleAction,egressNetworkPolicyType,egressName,
 *   egressIP,appProtocolName,httpVals,egressNodeName
 *
 * Times are unix seconds; with prettyPrint the protocol, rule actions and policy types are names
 * (pretty-print.ts), else numbers. No header line. Upstream joins the fields with "," and quotes
 * nothing; here a field that contains a comma, a double quote or a line break (httpVals JSON, for
 * one) is quoted as RFC 4180 says, so every line stays one CSV record with 31 fields. Lines
 * without such characters are identical to upstream's.
 */
import type { FlowRow } from '../flow-row.ts';
import { policyTypeName, protocolName, ruleActionName } from './pretty-print.ts';

export const FLOW_LOG_COLUMNS = [
  'flowStartSeconds', 'flowEndSeconds', 'sourceIP', 'destinationIP', 'sourceTransportPort',
  'destinationTransportPort', 'protocolIdentifier', 'sourcePodName', 'sourcePodNamespace', 'sourceNodeName',
  'destinationPodName', 'destinationPodNamespace', 'destinationNodeName', 'destinationClusterIP',
  'destinationServicePort', 'destinationServicePortName', 'ingressNetworkPolicyName',
  'ingressNetworkPolicyNamespace', 'ingressNetworkPolicyRuleName', 'ingressNetworkPolicyRuleAction',
  'ingressNetworkPolicyType', 'egressNetworkPolicyName', 'egressNetworkPolicyNamespace',
  'egressNetworkPolicyRuleName', 'egressNetworkPolicyRuleAction', 'egressNetworkPolicyType', 'egressName',
  'egressIP', 'appProtocolName', 'httpVals', 'egressNodeName',
] as const satisfies readonly (keyof FlowRow)[];

const NEEDS_QUOTES = /[",\r\n]/;

/** A CSV field: as is, or quoted with inner quotes doubled when it holds a separator. */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
}

/** The line of a flow, ending in "\n". */
export function flowLogLine(r: FlowRow, prettyPrint: boolean): string {
  const num = (n: number): string => String(n);
  const protocol = prettyPrint ? protocolName(r.protocolIdentifier) : num(r.protocolIdentifier);
  const inAction = prettyPrint ? ruleActionName(r.ingressNetworkPolicyRuleAction) : num(r.ingressNetworkPolicyRuleAction);
  const inType = prettyPrint ? policyTypeName(r.ingressNetworkPolicyType) : num(r.ingressNetworkPolicyType);
  const eAction = prettyPrint ? ruleActionName(r.egressNetworkPolicyRuleAction) : num(r.egressNetworkPolicyRuleAction);
  const eType = prettyPrint ? policyTypeName(r.egressNetworkPolicyType) : num(r.egressNetworkPolicyType);
  const fields = [
    num(r.flowStartSeconds), num(r.flowEndSeconds), r.sourceIP, r.destinationIP, num(r.sourceTransportPort),
    num(r.destinationTransportPort), protocol, r.sourcePodName, r.sourcePodNamespace, r.sourceNodeName,
    r.destinationPodName, r.destinationPodNamespace, r.destinationNodeName, r.destinationClusterIP,
    num(r.destinationServicePort), r.destinationServicePortName, r.ingressNetworkPolicyName,
    r.ingressNetworkPolicyNamespace, r.ingressNetworkPolicyRuleName, inAction,
    inType, r.egressNetworkPolicyName, r.egressNetworkPolicyNamespace,
    r.egressNetworkPolicyRuleName, eAction, eType, r.egressName,
    r.egressIP, r.appProtocolName, r.httpVals, r.egressNodeName,
  ];
  let line = csvField(fields[0]);
  for (let i = 1; i < fields.length; i++) line += ',' + csvField(fields[i]);
  return line + '\n';
}
