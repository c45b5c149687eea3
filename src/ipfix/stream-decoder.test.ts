import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionDecoder, type DecodedMessage } from './session-decoder.ts';
import { StreamDecoder } from './stream-decoder.ts';
import { seedMessages } from './testing/seeds.ts';

function decodeAll(chunks: Buffer[]): { messages: DecodedMessage[]; stream: StreamDecoder } {
  const stream = new StreamDecoder(new SessionDecoder({ transport: 'tcp' }));
  const messages: DecodedMessage[] = [];
  for (const c of chunks) stream.push(c, (m) => messages.push(m));
  return { messages, stream };
}

const seeds = seedMessages();
const whole = Buffer.concat(seeds);
const reference = decodeAll([whole]).messages;

test('all messages merged in one chunk decode like one chunk each', () => {
  const sep = decodeAll(seeds).messages;
  assert.equal(reference.length, seeds.length);
  assert.deepEqual(sep.map((m) => m.records.map((r) => r.values)), reference.map((m) => m.records.map((r) => r.values)));
  assert.ok(reference.every((m) => m.errors.length === 0));
});

test('messages split at every possible position decode the same', () => {
  for (let cut = 1; cut < whole.length; cut += 7) {
    const { messages, stream } = decodeAll([whole.subarray(0, cut), whole.subarray(cut)]);
    assert.equal(stream.failed, null);
    assert.equal(messages.length, reference.length, `cut ${cut}`);
  }
});

test('one octet at a time', () => {
  const chunks = [...whole].map((b) => Buffer.from([b]));
  const { messages } = decodeAll(chunks);
  assert.deepEqual(messages.map((m) => m.records.length), reference.map((m) => m.records.length));
});

test('a framing error ends the stream and ignores later input', () => {
  const bad = Buffer.from(whole);
  bad.writeUInt16BE(9, seeds[0].length); // the second message's version
  const { messages, stream } = decodeAll([bad]);
  assert.equal(messages.length, 1);
  assert.equal(stream.failed?.code, 'BAD_VERSION');
  assert.equal(stream.failed?.context.offset, seeds[0].length);
  assert.equal(stream.push(seeds[0], () => assert.fail('no message after failure')), false);
});

test('a length below the header size is a framing error; end of stream inside a message is reported', () => {
  const s1 = decodeAll([Buffer.from([0, 10, 0, 4, 0, 0, 0, 0])]).stream;
  assert.equal(s1.failed?.code, 'BAD_MESSAGE_LENGTH');
  const s2 = decodeAll([whole.subarray(0, 20)]).stream;
  assert.equal(s2.failed, null);
  assert.equal(s2.end()?.code, 'STREAM_TRUNCATED');
});
