import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { buildTemplate, MessageWriter } from '../../ipfix/index.ts';
import { DecodeWorker } from './decode-worker.ts';
import type { FromWorker, ToWorker } from './protocol.ts';

const tmpl = buildTemplate(300, ['sourceIPv4Address', 'octetDeltaCount', 'sourcePodName']);

function messages(count: number, perMessage: number): ArrayBuffer[] {
  const w = new MessageWriter({ observationDomainId: 1 });
  w.addTemplate(tmpl);
  w.flush();
  for (let i = 0; i < count; i++) {
    w.addRecord(tmpl, ['10.0.0.1', BigInt(i), `pod-${i}`]);
    if (i % perMessage === perMessage - 1) w.flush();
  }
  w.flush();
  return w.drain().map((m) => m.buffer.slice(m.byteOffset, m.byteOffset + m.length) as ArrayBuffer);
}

function worker(ringSize: number, output: 'text' | 'json' | 'none' = 'json'): { w: DecodeWorker; sent: FromWorker[] } {
  const sent: FromWorker[] = [];
  const w = new DecodeWorker({ output, ringSize, transport: 'udp' }, (m) => sent.push(m));
  w.handle({ t: 'open', session: { id: 1, transport: 'udp', exporterAddress: '10.1.1.1', exporterPort: 4000 } });
  return { w, sent };
}

const msg = (octets: ArrayBuffer, arrival: number): ToWorker => ({ t: 'message', id: 1, arrival, octets, length: octets.byteLength });

describe('DecodeWorker', () => {
  it('decodes, counts, prints and keeps the newest records across messages', async () => {
    const { w, sent } = worker(7);
    messages(25, 10).forEach((m, i) => w.handle(msg(m, i + 1)));
    await nextTurn();
    const outputs = sent.filter((m) => m.t === 'output');
    const printed = outputs.map((o) => o.text).join('').trim().split('\n');
    assert.equal(printed.length, 25);
    assert.equal(outputs.reduce((n, o) => n + o.messages, 0), 4, 'the template message and three data messages');
    const last = outputs[outputs.length - 1]!;
    assert.equal(last.counters.records, 25);
    assert.equal(last.counters.templates, 1);
    w.handle({ t: 'records', request: 5 });
    const answer = sent[sent.length - 1]!;
    assert.ok(answer.t === 'records' && answer.request === 5);
    assert.equal(answer.json.length, 7);
    assert.deepEqual(answer.arrivals, [3, 3, 4, 4, 4, 4, 4]);
    assert.match(answer.json[6]!, /octetDeltaCount: 24 /);
    w.handle({ t: 'reset' });
    w.handle({ t: 'records', request: 6 });
    const empty = sent[sent.length - 1]!;
    assert.ok(empty.t === 'records' && empty.json.length === 0);
  });

  it('counts a failure, reports it and goes on with the next message', async () => {
    const { w, sent } = worker(4, 'none');
    const [template, data] = messages(3, 3);
    w.handleSafely(msg(template!, 1));
    w.handleSafely({ t: 'message', id: 1, arrival: 2, octets: null as unknown as ArrayBuffer, length: 10 });
    w.handleSafely(msg(data!, 3));
    w.handle({ t: 'sync', request: 1 });
    const synced = sent[sent.length - 1]!;
    assert.ok(synced.t === 'synced');
    assert.equal(synced.counters.records, 3);
    assert.deepEqual(synced.counters.decodeErrors, { INTERNAL_ERROR: 1 });
    const reported = sent.flatMap((m) => (m.t === 'output' ? m.errors : []));
    assert.equal(reported[0]?.code, 'INTERNAL_ERROR');
    assert.equal(sent.filter((m) => m.t === 'output').reduce((n, o) => n + (o.t === 'output' ? o.messages : 0), 0), 3, 'every message is acknowledged');
    await nextTurn();
  });
});
