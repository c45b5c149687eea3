/**
 * Picks a conntrack source: netlink first, the `conntrack` CLI when netlink sockets cannot be
 * opened (and the CLI exists), and says which one it picked and why.
 */
import { ConntrackError } from '../errors.ts';
import { CliConntrackSource, conntrackCliAvailable, type CliSourceOptions } from './cli-source.ts';
import { NetlinkConntrackSource, type NetlinkSourceOptions } from './netlink-source.ts';
import type { ConntrackSource, SourceKind } from './source.ts';

export interface CreateSourceOptions {
  /** Try this kind first (default "netlink"). */
  prefer?: SourceKind;
  /** Do not fall back to the other kind. */
  only?: boolean;
  netlink?: NetlinkSourceOptions;
  cli?: CliSourceOptions;
}

export interface CreatedSource {
  source: ConntrackSource;
  kind: SourceKind;
  /** Why the preferred kind was not used (undefined when it was). */
  fallbackReason: string | undefined;
}

async function openKind(kind: SourceKind, options: CreateSourceOptions): Promise<ConntrackSource> {
  if (kind === 'netlink') return NetlinkConntrackSource.open(options.netlink);
  const binary = options.cli?.binary ?? 'conntrack';
  if (!(await conntrackCliAvailable(binary))) {
    throw new ConntrackError('CLI_UNAVAILABLE', `the conntrack CLI (${binary}) cannot be run`, { binary });
  }
  return new CliConntrackSource(options.cli);
}

/**
 * @throws ConntrackError NO_CONNTRACK_SOURCE when neither source can be used.
 */
export async function createConntrackSource(options: CreateSourceOptions = {}): Promise<CreatedSource> {
  const first: SourceKind = options.prefer ?? 'netlink';
  try {
    return { source: await openKind(first, options), kind: first, fallbackReason: undefined };
  } catch (err) {
    if (options.only) throw err;
    const second: SourceKind = first === 'netlink' ? 'conntrack-cli' : 'netlink';
    const reason = err instanceof Error ? err.message : String(err);
    try {
      return { source: await openKind(second, options), kind: second, fallbackReason: reason };
    } catch (err2) {
      throw new ConntrackError(
        'NO_CONNTRACK_SOURCE',
        `no conntrack source: ${first}: ${reason}; ${second}: ${err2 instanceof Error ? err2.message : String(err2)}`,
      );
    }
  }
}
