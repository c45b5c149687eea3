/**
 * FNV-1 (not FNV-1a) 32-bit, written independently of the agent's implementation so that the test
 * checks the observation domain ID the agent derives from its Node name:
 *   hash = 0x811c9dc5; for each octet: hash = (hash * 0x01000193) mod 2^32; hash ^= octet
 */
export function fnv1(text: string): number {
  let hash = 0x811c9dc5n;
  for (const octet of Buffer.from(text, 'utf8')) {
    hash = (hash * 0x01000193n) & 0xffffffffn;
    hash ^= BigInt(octet);
  }
  return Number(hash);
}

/** The observation domain ID an Antrea agent on Node `nodeName` uses. */
export function agentObservationDomainId(nodeName: string): number {
  return fnv1(nodeName);
}
