/**
 * The aggregator's default observation domain ID, computed independently of src/: FNV-1 (not 1a)
 * 32-bit over the cluster UUID's 16 raw octets (upstream genObservationDomainID):
 *   hash = 0x811c9dc5; for each octet: hash = (hash * 0x01000193) mod 2^32; hash ^= octet
 */
export function fnv1Bytes(bytes: Uint8Array): number {
  let hash = 0x811c9dc5n;
  for (const octet of bytes) {
    hash = (hash * 0x01000193n) & 0xffffffffn;
    hash ^= BigInt(octet);
  }
  return Number(hash);
}

/** "123e4567-e89b-12d3-a456-426614174000" → its 16 octets. */
export function uuidOctets(uuid: string): Uint8Array {
  const hex = uuid.replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${uuid}`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function aggregatorObservationDomainId(clusterUUID: string): number {
  return fnv1Bytes(uuidOctets(clusterUUID));
}
