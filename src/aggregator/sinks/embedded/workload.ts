/**
 * The workload a Pod belongs to, for service maps: a label when the record carries one
 * (app.kubernetes.io/name, then app, then k8s-app), else the Pod name without the suffixes its
 * controller added:
 *
 *   Deployment   <name>-<pod-template-hash 6..10>-<5>   web-7d9f8b6c5d-x7k2p  → web
 *   DaemonSet,   <name>-<5>                             fluentd-x7k2p         → fluentd
 *   Job
 *   StatefulSet  <name>-<ordinal>                       db-0                  → db
 *
 * Generated suffixes use Kubernetes' "safe" alphabet (bcdfghjklmnpqrstvwxz2456789). The same rule
 * is written in SQL (RE2) for ClickHouse: WORKLOAD_SUFFIX_RE and STATEFULSET_SUFFIX_RE.
 */

const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';

/** Suffix added by a ReplicaSet (optional hash) and the pod name generator. */
export const WORKLOAD_SUFFIX_RE = `(-${SAFE}{6,10})?-${SAFE}{5}$`;
/** Ordinal suffix of a StatefulSet Pod. */
export const STATEFULSET_SUFFIX_RE = '-[0-9]+$';
/** Label keys that name a workload, in order of preference. */
export const WORKLOAD_LABEL_KEYS = ['app.kubernetes.io/name', 'app', 'k8s-app'] as const;

const GENERATED = new RegExp(`^(.+?)${WORKLOAD_SUFFIX_RE}`);
const ORDINAL = new RegExp(`^(.+)${STATEFULSET_SUFFIX_RE}`);

/** A Pod name without its controller's suffixes. */
export function stripPodSuffix(podName: string): string {
  const generated = GENERATED.exec(podName);
  if (generated !== null) return generated[1] as string;
  const ordinal = ORDINAL.exec(podName);
  return ordinal !== null ? (ordinal[1] as string) : podName;
}

/** The workload label value in a Pod-labels JSON document ("" when none or not JSON). */
export function workloadLabel(labelsJson: string): string {
  if (labelsJson === '' || labelsJson === '{}') return '';
  let labels: unknown;
  try {
    labels = JSON.parse(labelsJson);
  } catch {
    return '';
  }
  if (typeof labels !== 'object' || labels === null) return '';
  for (const key of WORKLOAD_LABEL_KEYS) {
    const value = (labels as Record<string, unknown>)[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return '';
}

/** The workload of a Pod ("" when there is no Pod). */
export function workloadOf(podName: string, labelsJson: string): string {
  if (podName === '') return '';
  const label = workloadLabel(labelsJson);
  return label !== '' ? label : stripPodSuffix(podName);
}
