/**
 * Default locations of the aggregator's local state, shared by the aggregator and the CLI:
 *
 *   $FLOWVIS_STATE_DIR, else /var/run/flowvis when running as root, else
 *   $XDG_STATE_HOME/flowvis (default ~/.local/state/flowvis)
 *     pki/        the PKI outside Kubernetes (see directory-store.ts); pki/ca.crt also in Kubernetes
 *     api-token   the API server's bearer token (0600)
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): string {
  if (env.FLOWVIS_STATE_DIR) return env.FLOWVIS_STATE_DIR;
  if (uid === 0) return '/var/run/flowvis';
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'flowvis');
}

export function defaultPkiDir(env?: NodeJS.ProcessEnv, uid?: number): string {
  return join(defaultStateDir(env, uid), 'pki');
}

export function defaultTokenFile(env?: NodeJS.ProcessEnv, uid?: number): string {
  return join(defaultStateDir(env, uid), 'api-token');
}
