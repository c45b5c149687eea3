/**
 * Fallback conntrack source for hosts where netlink sockets cannot be opened from Node: runs the
 * conntrack-tools CLI, `conntrack -L -o xml,ktimestamp -f ipv4|ipv6 [-w ZONE]`, and streams its XML
 * through `ConntrackXmlStream`. Slower than netlink and without ICMP ids or labels (see xml-parser.ts).
 */
import { spawn } from 'node:child_process';
import { ConntrackError } from '../errors.ts';
import type { ConntrackEntry } from './entry.ts';
import { ObjectEntryView } from './object-view.ts';
import type { ConntrackSource, ConntrackVisitor, DumpOptions, DumpStats } from './source.ts';
import { ConntrackXmlStream } from './xml-parser.ts';

export interface CliSourceOptions {
  /** Path or name of the conntrack binary (default "conntrack"). */
  binary?: string;
  /** Millisecond clock for DumpStats.durationMs (default performance.now). */
  clock?: () => number;
  /** Wall clock in seconds, for entries that only carry <deltatime> (default Date.now()/1000). */
  nowSeconds?: () => number;
}

/** Runs `binary args` and resolves with its exit code and stderr; streams stdout to `onStdout`. */
function run(
  binary: string,
  args: string[],
  onStdout: (chunk: string) => void,
): Promise<{ code: number | null; stderr: string; spawnError?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let spawnError: Error | undefined;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', onStdout);
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.on('error', (err) => {
      spawnError = err;
    });
    child.on('close', (code) => resolve({ code, stderr, spawnError }));
  });
}

/** True when `binary --version` runs. */
export async function conntrackCliAvailable(binary = 'conntrack'): Promise<boolean> {
  const r = await run(binary, ['--version'], () => undefined);
  return r.spawnError === undefined && r.code === 0;
}

export class CliConntrackSource implements ConntrackSource {
  readonly kind = 'conntrack-cli' as const;
  private readonly binary: string;
  private readonly clock: () => number;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: CliSourceOptions = {}) {
    this.binary = options.binary ?? 'conntrack';
    this.clock = options.clock ?? (() => performance.now());
  }

  dump(visitor: ConntrackVisitor, options: DumpOptions = {}): Promise<DumpStats> {
    const next = this.queue.then(() => this.runDump(visitor, options));
    this.queue = next.catch(() => undefined);
    return next;
  }

  async dumpAll(options: DumpOptions = {}): Promise<ConntrackEntry[]> {
    const entries: ConntrackEntry[] = [];
    await this.dump((v) => {
      entries.push(v.toEntry());
    }, options);
    return entries;
  }

  close(): void {
    this.closed = true;
  }

  private async runDump(visitor: ConntrackVisitor, options: DumpOptions): Promise<DumpStats> {
    if (this.closed) throw new ConntrackError('SOURCE_CLOSED', 'conntrack source closed');
    const started = this.clock();
    const stats: DumpStats = { visited: 0, received: 0, malformed: 0, lastError: undefined, durationMs: 0 };
    const family = options.family ?? 'all';
    const families = family === 'all' ? ['ipv4', 'ipv6'] : [family];
    let view: ObjectEntryView | undefined;
    let visitorError: unknown;
    for (const f of families) {
      const stream = new ConntrackXmlStream(
        (entry) => {
          stats.received++;
          if (options.zone !== undefined && entry.zone !== options.zone) return;
          if (visitorError !== undefined) return;
          stats.visited++;
          try {
            view = view === undefined ? new ObjectEntryView(entry) : view.set(entry);
            visitor(view);
          } catch (err) {
            visitorError = err ?? new Error('visitor threw');
          }
        },
        (err) => {
          stats.malformed++;
          stats.lastError = err;
        },
        this.options.nowSeconds,
      );
      const args = ['-L', '-o', 'xml,ktimestamp', '-f', f];
      if (options.zone !== undefined) args.push('-w', String(options.zone));
      const r = await run(this.binary, args, (chunk) => stream.push(chunk));
      stream.end();
      if (r.spawnError !== undefined || r.code !== 0) {
        throw new ConntrackError(
          'CLI_FAILED',
          `${this.binary} ${args.join(' ')} failed: ${r.spawnError?.message ?? r.stderr.trim()}`,
          { exitCode: r.code ?? -1 },
        );
      }
    }
    if (visitorError !== undefined) throw visitorError;
    stats.durationMs = this.clock() - started;
    return stats;
  }
}
