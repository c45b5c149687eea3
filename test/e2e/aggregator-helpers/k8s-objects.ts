/** Kubernetes objects the aggregator's tests need beyond test/e2e/fake-apiserver/fixtures.ts. */
import type { KubeObject } from '../fake-apiserver/object-store.ts';

export { networkPolicy, service } from '../fake-apiserver/fixtures.ts';

export function configMap(namespace: string, name: string, data: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}
