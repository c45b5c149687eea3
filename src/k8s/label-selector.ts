/**
 * Kubernetes LabelSelector matching (metav1.LabelSelectorAsSelector semantics):
 * matchLabels and matchExpressions are ANDed; an empty selector matches everything;
 * In needs the key with one of the values, NotIn matches when the key is absent or has another
 * value, Exists / DoesNotExist test the key only.
 */
import type { Labels, LabelSelector } from './types.ts';

export type LabelMatcher = (labels: Labels) => boolean;

const matchAll: LabelMatcher = () => true;

/** Compiles a selector once into a predicate. An invalid requirement (In/NotIn without values) matches nothing. */
export function compileLabelSelector(selector: LabelSelector): LabelMatcher {
  const checks: LabelMatcher[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    checks.push((l) => l[key] === value);
  }
  for (const req of selector.matchExpressions ?? []) {
    const { key } = req;
    const values = new Set(req.values ?? []);
    switch (req.operator) {
      case 'In':
        if (values.size === 0) return () => false;
        checks.push((l) => Object.hasOwn(l, key) && values.has(l[key]));
        break;
      case 'NotIn':
        if (values.size === 0) return () => false;
        checks.push((l) => !Object.hasOwn(l, key) || !values.has(l[key]));
        break;
      case 'Exists':
        checks.push((l) => Object.hasOwn(l, key));
        break;
      case 'DoesNotExist':
        checks.push((l) => !Object.hasOwn(l, key));
        break;
      default:
        return () => false;
    }
  }
  if (checks.length === 0) return matchAll;
  if (checks.length === 1) return checks[0];
  return (l) => {
    for (const c of checks) if (!c(l)) return false;
    return true;
  };
}

export function isEmptySelector(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}
