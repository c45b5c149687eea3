/**
 * The aggregator's observation domain ID: `flowCollector.observationDomainID` when configured,
 * else the FNV-1 (not 1a) 32-bit hash of the cluster UUID's 16 raw octets (upstream
 * genObservationDomainID hashes the uuid.UUID byte array, not its text).
 *
 * UUID text accepted (as Go's uuid.Parse): xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, optionally in
 * braces or with a "urn:uuid:" prefix, or the 32 hex digits without hyphens; any letter case.
 */
import { ConfigError } from '../../../errors.ts';
import { fnv1_32 } from '../../../ipfix/index.ts';

const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const COMPACT = /^[0-9a-f]{32}$/i;

/** The 16 octets of a UUID given as text. Throws ConfigError (code UUID_INVALID). */
export function uuidBytes(text: string): Uint8Array {
  let s = text.trim();
  if (s.toLowerCase().startsWith('urn:uuid:')) s = s.slice(9);
  else if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  if (CANONICAL.test(s)) s = s.replace(/-/g, '');
  else if (!COMPACT.test(s)) {
    throw new ConfigError('UUID_INVALID', `"${text}" is not a UUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`, { value: text });
  }
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

/** FNV-1 32-bit of the cluster UUID's raw octets. */
export function clusterObservationDomainId(clusterUUID: string): number {
  return fnv1_32(uuidBytes(clusterUUID));
}

/** The configured ID, else the one derived from the cluster UUID. */
export function aggregatorObservationDomainId(configured: number | undefined, clusterUUID: string): number {
  return configured ?? clusterObservationDomainId(clusterUUID);
}
