import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fuzz } from './testing/fuzz.ts';
import { seedMessages } from './testing/seeds.ts';

function splitMessages(file: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0; p + 4 <= file.length; ) {
    const len = file.readUInt16BE(p + 2);
    if (len < 16) break;
    out.push(file.subarray(p, p + len));
    p += len;
  }
  return out;
}

/** Our Antrea-template messages plus, when present, IPFIX datagrams captured from pmacctd. */
function seeds(): Buffer[] {
  const out = seedMessages();
  // An IPFIX file (RFC 5655: messages back to back) of what pmacctd exported from real traffic.
  const capture = new URL('../../test/interop/fixtures/pmacctd.ipfix', import.meta.url);
  if (existsSync(capture)) out.push(...splitMessages(readFileSync(capture)));
  return out;
}

test('100,000 mutated messages: no crash, no hang, only typed errors', { timeout: 120_000 }, () => {
  const s = seeds();
  const stats = fuzz(100_000, s, 0xf10f);
  assert.deepEqual(stats.failures, []);
  assert.equal(stats.messages, 100_000);
  // The mutations reach the decoders' inner paths.
  assert.ok(stats.typedErrors > 10_000, `typed errors: ${stats.typedErrors}`);
  assert.ok(stats.decodedRecords > 100_000, `records: ${stats.decodedRecords}`);
  assert.ok(stats.framingFailures > 1000);
});
