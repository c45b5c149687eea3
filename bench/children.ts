/**
 * Child processes of a benchmark (senders, collectors, exporters), talking over Node's IPC
 * channel: wait for a keyed message, stop a child politely (then by force).
 */
import type { ChildProcess } from 'node:child_process';

/** The value under `key` of the next message from `c` that has it; rejects on timeout or exit. */
export function nextMessage<T>(c: ChildProcess, key: string, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no "${key}" from child within ${timeoutMs} ms`)); }, timeoutMs);
    const onMsg = (m: Record<string, unknown>): void => {
      if (!(key in m)) return;
      cleanup();
      resolve(m[key] as T);
    };
    const onExit = (code: number | null): void => { cleanup(); reject(new Error(`child exited (${code}) before sending "${key}"`)); };
    const cleanup = (): void => { clearTimeout(timer); c.off('message', onMsg); c.off('exit', onExit); };
    c.on('message', onMsg);
    c.on('exit', onExit);
  });
}

/** Asks the child to exit ({cmd: 'exit'}); kills it after 5 s. */
export async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  c.send({ cmd: 'exit' });
  const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
