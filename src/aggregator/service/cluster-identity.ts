/**
 * The cluster's UUID (clusterId of records, and the IPFIX sink's observation domain): in
 * Kubernetes, Antrea's `antrea-cluster-identity` ConfigMap (kube-system, key `uuid`) when present;
 * otherwise a UUID generated once and kept in the state directory.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ConfigMapReader {
  readNamespacedConfigMap(args: { name: string; namespace: string }): Promise<{ data?: Record<string, string> }>;
}

/** The UUID in `file`, created (0644) when missing or invalid. */
export async function persistentClusterUUID(file: string): Promise<string> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    if (UUID.test(text)) return text.toLowerCase();
  } catch {
    // missing: created below
  }
  const uuid = randomUUID();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, uuid + '\n', { mode: 0o644 });
  return uuid;
}

/** Antrea's cluster UUID from the API, or undefined when the ConfigMap is absent or unreadable. */
export async function antreaClusterUUID(api: ConfigMapReader): Promise<string | undefined> {
  try {
    const cm = await api.readNamespacedConfigMap({ name: 'antrea-cluster-identity', namespace: 'kube-system' });
    const uuid = cm.data?.uuid;
    return uuid !== undefined && UUID.test(uuid) ? uuid.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}
