/**
 * A kubeconfig pointing at the fake API server. The cluster sets `insecure-skip-tls-verify: true`:
 * @kubernetes/client-node 1.4 refuses plain http:// servers otherwise ("HTTP protocol is not allowed
 * when skipTLSVerify is not set or false").
 */
import { writeFile } from 'node:fs/promises';

export function kubeconfigYaml(server: string, namespace = 'default'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: fake',
    '  cluster:',
    `    server: ${server}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: fake',
    '  user:',
    '    token: fake-token',
    'contexts:',
    '- name: fake',
    '  context:',
    '    cluster: fake',
    '    user: fake',
    `    namespace: ${namespace}`,
    'current-context: fake',
    '',
  ].join('\n');
}

export async function writeKubeconfig(path: string, server: string): Promise<void> {
  await writeFile(path, kubeconfigYaml(server), { mode: 0o600 });
}
