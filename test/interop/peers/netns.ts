/**
 * Two network namespaces joined by a veth pair, for running real exporters on real traffic
 * without touching the host's interfaces:
 *
 *   <prefix>a: lo, veth0 10.201.0.1/24 fd00:201::1/64  ⟷  <prefix>b: lo, veth0 10.201.0.2/24 fd00:201::2/64
 *
 * Names carry a unique prefix (fvt<pid><random>-) so that parallel runs never collide; destroy()
 * deletes both namespaces (which removes the veth pair) and is safe to call twice.
 */
import { randomBytes } from 'node:crypto';
import { run, type RunOptions, type RunResult } from './process.ts';

export const ADDRESS_A = '10.201.0.1';
export const ADDRESS_B = '10.201.0.2';
export const ADDRESS6_A = 'fd00:201::1';
export const ADDRESS6_B = 'fd00:201::2';
export const VETH = 'veth0';

export class NetnsPair {
  private destroyed = false;

  private constructor(readonly a: string, readonly b: string) {}

  static uniquePrefix(): string {
    return `fvt${process.pid}${randomBytes(2).toString('hex')}-`;
  }

  static async create(prefix = NetnsPair.uniquePrefix()): Promise<NetnsPair> {
    const pair = new NetnsPair(`${prefix}a`, `${prefix}b`);
    try {
      await run('ip', ['netns', 'add', pair.a]);
      await run('ip', ['netns', 'add', pair.b]);
      await run('ip', ['link', 'add', VETH, 'netns', pair.a, 'type', 'veth', 'peer', 'name', VETH, 'netns', pair.b]);
      for (const [ns, v4, v6] of [[pair.a, ADDRESS_A, ADDRESS6_A], [pair.b, ADDRESS_B, ADDRESS6_B]]) {
        await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        await run('ip', ['-n', ns, 'addr', 'add', `${v4}/24`, 'dev', VETH]);
        await run('ip', ['-n', ns, 'addr', 'add', `${v6}/64`, 'dev', VETH, 'nodad']);
        await run('ip', ['-n', ns, 'link', 'set', VETH, 'up']);
      }
    } catch (e) {
      await pair.destroy();
      throw e;
    }
    return pair;
  }

  /** Runs a command inside namespace `ns`. */
  exec(ns: string, cmd: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return run('ip', ['netns', 'exec', ns, cmd, ...args], options);
  }

  /** Arguments that start `cmd` inside `ns` (for Daemon.start('ip', ...)). */
  static execArgs(ns: string, cmd: string, args: readonly string[]): string[] {
    return ['netns', 'exec', ns, cmd, ...args];
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const ns of [this.a, this.b]) await run('ip', ['netns', 'del', ns], { check: false });
  }
}
