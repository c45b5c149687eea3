/**
 * Runs the fake Kubernetes API server as its own process (for example inside a network namespace
 * of the end-to-end cluster, or for a demo):
 *
 *   tsx test/e2e/fake-apiserver/main.ts [--host 127.0.0.1] [--port 0] [--kubeconfig PATH] [--objects FILE.yaml]
 *
 * It prints one JSON line {"url":...,"kubeconfig":...} once it listens, and stops on SIGTERM/SIGINT.
 * --objects takes a multi-document YAML file of Kubernetes objects to create first.
 */
import { copyFile, readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { start, type KubeObject } from './index.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const objects: KubeObject[] = [];
const objectsFile = arg('objects');
if (objectsFile !== undefined) {
  for (const doc of parseAllDocuments(await readFile(objectsFile, 'utf8'))) {
    const value = doc.toJS() as KubeObject | null;
    if (value !== null) objects.push(value);
  }
}
const api = await start({ host: arg('host'), port: Number(arg('port') ?? '0'), objects });
const kubeconfig = arg('kubeconfig');
if (kubeconfig !== undefined) await copyFile(api.kubeconfigPath, kubeconfig);
process.stdout.write(JSON.stringify({ url: api.url, kubeconfig: kubeconfig ?? api.kubeconfigPath }) + '\n');
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    void api.stop().then(() => process.exit(0));
  });
}
