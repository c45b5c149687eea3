/** Wire constants of IPFIX (RFC 7011) and the enterprise numbers this project uses. */

export const IPFIX_VERSION = 10;
export const MESSAGE_HEADER_LENGTH = 16;
export const SET_HEADER_LENGTH = 4;
export const TEMPLATE_SET_ID = 2;
export const OPTIONS_TEMPLATE_SET_ID = 3;
/** Data sets use the template ID (≥ 256) as their set ID. */
export const MIN_DATA_SET_ID = 256;
/** Field length that announces a variable-length field in a template. */
export const VARIABLE_LENGTH = 65535;
export const MAX_MESSAGE_LENGTH = 65535;

export const PEN_IANA = 0;
/** RFC 5103 reverse information elements. */
export const PEN_REVERSE = 29305;
/** Antrea's IANA-assigned private enterprise number. */
export const PEN_ANTREA = 56506;
/** The number Antrea's public documentation states; accepted as Antrea when decoding. */
export const PEN_ANTREA_LEGACY = 56505;

/** flowEndReason values (IANA). */
export const FlowEndReason = { idleTimeout: 1, activeTimeout: 2, endOfFlow: 3, forcedEnd: 4, lackOfResources: 5 } as const;
/** Antrea flowType values. */
export const FlowType = { unspecified: 0, intraNode: 1, interNode: 2, toExternal: 3, fromExternal: 4 } as const;
/** Antrea ingress/egressNetworkPolicyRuleAction values. */
export const RuleAction = { noAction: 0, allow: 1, drop: 2, reject: 3 } as const;
/** Antrea ingress/egressNetworkPolicyType values. */
export const PolicyType = { unspecified: 0, k8sNetworkPolicy: 1, antreaNetworkPolicy: 2, antreaClusterNetworkPolicy: 3, k8sClusterNetworkPolicy: 4 } as const;
