/**
 * Stopping pmacct daemons: nfacctd and pmacctd fork a process per plugin and do not stop on
 * SIGTERM reliably, so the plugin processes the core forked are killed, then the core, each by its
 * own process ID (read from /proc while the core still runs).
 */
import { readFileSync } from 'node:fs';
import type { Daemon } from '../peers/process.ts';

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * Kills the `comm`-named children `daemon` had forked, then `daemon` itself (SIGKILL). Children go
 * first: they share the daemon's output pipes, which must close before the daemon counts as exited.
 */
export async function stopWithChildren(daemon: Daemon, comm: string): Promise<void> {
  const pid = daemon.pid;
  if (pid !== undefined && daemon.isRunning) {
    for (const child of childPids(pid)) {
      if (commandOf(child) !== comm) continue;
      try { process.kill(child, 'SIGKILL'); } catch { /* exited meanwhile */ }
    }
  }
  await daemon.stop('SIGKILL', 1000);
}
