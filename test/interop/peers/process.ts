/**
 * Running the real peer tools: one-shot commands with a time limit, and background daemons that
 * are waited for (a line on their output) and always stopped by their own process ID.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  /** Throw unless the command exits with status 0 (default true). */
  check?: boolean;
}

/** Runs a command to completion; kills it (SIGKILL) when it outlives `timeoutMs`. */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { timeoutMs = 30_000, check = true } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      const line = [cmd, ...args].join(' ');
      if (timedOut) reject(new Error(`${line}: no exit within ${timeoutMs} ms\n${result.stderr}`));
      else if (check && code !== 0) reject(new Error(`${line}: exit ${code ?? signal}\n${result.stderr}`));
      else resolve(result);
    });
    child.stdin.on('error', () => { /* the tool may exit before reading all of its input */ });
    child.stdin.end(options.input ?? '');
  });
}

/** Whether a command can be found on PATH. */
export async function haveCommand(cmd: string): Promise<boolean> {
  const r = await run('sh', ['-c', `command -v ${cmd}`], { check: false, timeoutMs: 5000 });
  return r.code === 0;
}

export interface DaemonOptions {
  /** Resolve start() once this pattern appears on stdout or stderr. */
  ready?: RegExp;
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** A background process; its output is kept for diagnostics. */
export class Daemon {
  private output = '';
  private exited: Promise<void>;
  private exitCode: number | null = null;
  private exitSignal: NodeJS.Signals | null = null;
  private running = true;

  private constructor(readonly name: string, private readonly child: ChildProcess) {
    const collect = (c: Buffer): void => { this.output += c.toString('utf8'); };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.running = false;
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
      });
      child.on('error', (e) => { this.output += `\nspawn error: ${e.message}`; this.running = false; resolve(); });
    });
  }

  static async start(cmd: string, args: readonly string[], options: DaemonOptions = {}): Promise<Daemon> {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    const d = new Daemon([cmd, ...args].join(' '), child);
    if (options.ready) {
      try {
        await d.waitFor(options.ready, options.readyTimeoutMs ?? 10_000);
      } catch (e) {
        await d.stop();
        throw e;
      }
    }
    return d;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get log(): string {
    return this.output;
  }

  get status(): string {
    return this.running ? 'running' : `exited ${this.exitCode ?? this.exitSignal}`;
  }

  /** Waits until the output matches `pattern` (polling every 20 ms), or fails after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (!this.running) throw new Error(`${this.name} ${this.status} before printing ${pattern}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends `signal` to this process only, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const timer = setTimeout(() => { if (this.running) this.child.kill('SIGKILL'); }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function pollUntil<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
