/**
 * Namespace naming for tests: every run gets a unique prefix `fvt<pid><rand>-`, so parallel test
 * files never collide, and leftovers of a crashed run can be recognised (their pid is dead).
 */
import { randomBytes } from 'node:crypto';
import { execIn, run } from './exec.ts';

const PREFIX_RE = /^fvt(\d+)[a-z0-9]{4}-/;

/** A fresh prefix such as "fvt4242k3x9-". */
export function uniquePrefix(): string {
  const rand = randomBytes(3).readUIntBE(0, 3).toString(36).padStart(4, '0').slice(-4);
  return `fvt${process.pid}${rand}-`;
}

/** Names of all network namespaces on the host. */
export async function listNamespaces(): Promise<string[]> {
  const r = await run(['ip', '-json', 'netns', 'list'], { allowFailure: true });
  if (r.code !== 0 || r.stdout.trim() === '') return [];
  return (JSON.parse(r.stdout) as Array<{ name: string }>).map((n) => n.name);
}

/**
 * Kills every process inside namespace `ns` and deletes it. Ignores a namespace that is already
 * gone. Deleting a namespace also deletes the veth ends inside it (and thus their peers).
 */
export async function deleteNamespace(ns: string): Promise<void> {
  const pids = await run(['ip', 'netns', 'pids', ns], { allowFailure: true });
  for (const line of pids.stdout.split('\n')) {
    const pid = Number(line.trim());
    if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
  }
  await run(['ip', 'netns', 'del', ns], { allowFailure: true });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes namespaces named by `uniquePrefix()` whose creating process no longer exists
 * (leftovers of test runs that were killed). Returns the names it deleted.
 */
export async function cleanupStaleNamespaces(): Promise<string[]> {
  const deleted: string[] = [];
  for (const ns of await listNamespaces()) {
    const m = PREFIX_RE.exec(ns);
    if (m && !pidAlive(Number(m[1]))) {
      await deleteNamespace(ns);
      deleted.push(ns);
    }
  }
  return deleted;
}

/** True when namespace `ns` exists. */
export async function namespaceExists(ns: string): Promise<boolean> {
  const r = await execIn(ns, ['true'], { allowFailure: true });
  return r.code === 0;
}
