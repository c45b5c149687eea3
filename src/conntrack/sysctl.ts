/**
 * Conntrack sysctls of the current network namespace, read and written through /proc/sys.
 * Like Antrea's agent, enabling accounting and timestamps is best effort: failures become warnings.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConntrackError } from '../errors.ts';

export interface SysctlOptions {
  /** Root of the sysctl tree (default "/proc/sys"); tests point it at a directory of their own. */
  procRoot?: string;
}

const ACCT = 'net/netfilter/nf_conntrack_acct';
const TIMESTAMP = 'net/netfilter/nf_conntrack_timestamp';
const MAX = 'net/netfilter/nf_conntrack_max';
const COUNT = 'net/netfilter/nf_conntrack_count';

const root = (o: SysctlOptions): string => o.procRoot ?? '/proc/sys';

async function ensureOne(path: string, name: string): Promise<string | undefined> {
  try {
    const current = (await readFile(path, 'utf8')).trim();
    if (current === '1') return undefined;
  } catch (err) {
    return `cannot read ${name}: ${(err as Error).message}`;
  }
  try {
    await writeFile(path, '1\n');
  } catch (err) {
    return `cannot enable ${name}: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * Sets net.netfilter.nf_conntrack_acct=1 (per-direction packet/byte counters) and
 * nf_conntrack_timestamp=1 (start/stop times). Returns one warning per setting it could not
 * enable (empty when both are on); never throws.
 */
export async function enableConntrackAccounting(options: SysctlOptions = {}): Promise<string[]> {
  const warnings: string[] = [];
  for (const [rel, name] of [
    [ACCT, 'net.netfilter.nf_conntrack_acct'],
    [TIMESTAMP, 'net.netfilter.nf_conntrack_timestamp'],
  ] as const) {
    const w = await ensureOne(join(root(options), rel), name);
    if (w !== undefined) warnings.push(w);
  }
  return warnings;
}

async function readInteger(path: string, name: string): Promise<number> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (err) {
    throw new ConntrackError('SYSCTL_READ', `cannot read ${name}: ${(err as Error).message}`, { path }, { cause: err });
  }
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new ConntrackError('SYSCTL_VALUE', `${name} is not an integer: "${text}"`, { path, value: text });
  }
  return n;
}

/** net.netfilter.nf_conntrack_max: the table's capacity. */
export function readConntrackMax(options: SysctlOptions = {}): Promise<number> {
  return readInteger(join(root(options), MAX), 'net.netfilter.nf_conntrack_max');
}

/** net.netfilter.nf_conntrack_count: the number of entries now. */
export function readConntrackCount(options: SysctlOptions = {}): Promise<number> {
  return readInteger(join(root(options), COUNT), 'net.netfilter.nf_conntrack_count');
}
