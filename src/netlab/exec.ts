/**
 * Running commands and long-lived processes inside network namespaces (`ip netns exec NS ...`).
 * Every spawned process is tracked by a `ProcessGroup` so a test can kill all of them at teardown,
 * even after a failure.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (so `node --import tsx` resolves the project's packages). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code (null when killed by a signal). */
  code: number | null;
}

export interface ExecOptions {
  /** Text written to the command's stdin. */
  input?: string;
  /** Kill the command after this many milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Resolve instead of rejecting when the command exits non-zero. */
  allowFailure?: boolean;
  /** Working directory (default: the repository root). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** The argv that runs `argv` inside namespace `ns` ("" = the current namespace). */
export function inNamespace(ns: string, argv: readonly string[]): string[] {
  return ns === '' ? [...argv] : ['ip', 'netns', 'exec', ns, ...argv];
}

/**
 * Runs a command to completion. Rejects with an Error quoting the command, exit code and stderr
 * when it fails (unless `allowFailure`).
 */
export function run(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      argv[0],
      argv.slice(1),
      {
        cwd: options.cwd ?? REPO_ROOT,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 30_000,
        killSignal: 'SIGKILL',
        maxBuffer: 512 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        if (err && !options.allowFailure) {
          reject(
            new Error(
              `command failed (${err.killed ? 'killed' : `exit ${String(err.code)}`}): ${argv.join(' ')}\n${stderr}`,
            ),
          );
          return;
        }
        resolve({ stdout, stderr, code });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** Runs `argv` inside namespace `ns`. */
export function execIn(ns: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return run(inNamespace(ns, argv), options);
}

/** Runs a bash script inside namespace `ns` (set -e). */
export function shIn(ns: string, script: string, options: ExecOptions = {}): Promise<ExecResult> {
  return run(inNamespace(ns, ['bash', '-ec', script]), options);
}

/** A long-lived process started by `ProcessGroup.spawn`. */
export class ManagedProcess {
  private out = '';
  private err = '';
  private readonly waiters: Array<() => void> = [];
  /** Resolves with the exit code (or null after a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
  exitCode: number | null | undefined = undefined;

  constructor(
    readonly child: ChildProcess,
    readonly argv: readonly string[],
  ) {
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      this.out += d;
      this.notify();
    });
    child.stderr?.on('data', (d: string) => {
      this.err += d;
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      child.on('close', (code) => {
        this.exitCode = code;
        this.notify();
        resolve(code);
      });
      child.on('error', (e) => {
        this.err += `spawn error: ${e.message}\n`;
        this.exitCode = null;
        this.notify();
        resolve(null);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Everything the process wrote to stdout so far. */
  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Writes to the process's stdin (spawned with `stdin: 'pipe'`). */
  write(data: string | Buffer): void {
    this.child.stdin?.write(data);
  }

  /**
   * Waits until stdout (or stderr with `stream: 'stderr'`) matches `pattern`; returns the match.
   * Rejects on timeout or when the process exits first.
   */
  async waitForOutput(
    pattern: RegExp,
    timeoutMs = 10_000,
    stream: 'stdout' | 'stderr' = 'stdout',
  ): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = (stream === 'stdout' ? this.out : this.err).match(pattern);
      if (m) return m;
      if (!this.running) {
        throw new Error(`${this.argv.join(' ')} exited (${String(this.exitCode)}) before printing ${pattern}\n${this.err}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${pattern} from ${this.argv.join(' ')}\n${this.err}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /**
   * Stops the process and everything it forked (its process group): `signal` first, SIGKILL
   * after `graceMs`. Resolves once it has exited. Safe to call repeatedly.
   */
  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 2000): Promise<void> {
    if (!this.running || this.child.pid === undefined) return;
    const pid = this.child.pid;
    const send = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-pid, sig);
      } catch {
        try {
          process.kill(pid, sig);
        } catch {
          // already gone
        }
      }
    };
    send(signal);
    const timer = setTimeout(() => send('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Keep stdin open as a pipe (default: ignored). */
  stdin?: boolean;
}

/** Tracks spawned processes so they can all be killed at teardown. */
export class ProcessGroup {
  private readonly procs = new Set<ManagedProcess>();

  /**
   * Starts `argv` inside namespace `ns` ("" = current namespace) in its own process group.
   * Output is collected in memory; see `ManagedProcess`.
   */
  spawn(ns: string, argv: readonly string[], options: SpawnOptions = {}): ManagedProcess {
    const full = inNamespace(ns, argv);
    const child = spawn(full[0], full.slice(1), {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? process.env,
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const proc = new ManagedProcess(child, full);
    this.procs.add(proc);
    void proc.exited.then(() => this.procs.delete(proc));
    return proc;
  }

  /** Processes still running. */
  get running(): ManagedProcess[] {
    return [...this.procs].filter((p) => p.running);
  }

  /** Kills every tracked process (SIGTERM, then SIGKILL after `graceMs`). */
  async killAll(graceMs = 2000): Promise<void> {
    await Promise.all([...this.procs].map((p) => p.kill('SIGTERM', graceMs)));
    this.procs.clear();
  }
}

/** Polls `check` every `intervalMs` until it returns a truthy value; rejects after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 10_000,
  intervalMs = 50,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timeout after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
