import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { MessageWriter, buildTemplate } from '../../ipfix/index.ts';
import { CollectorStats, type CollectorSessionInfo } from '../../transport/index.ts';
import { DecodePool } from './decode-pool.ts';

const session = (id: number): CollectorSessionInfo => ({ id, transport: 'udp', exporterAddress: '192.0.2.1', exporterPort: 4000 + id });

function messages(): Buffer[] {
  const t = buildTemplate(300, ['sourceIPv4Address', 'octetDeltaCount']);
  const w = new MessageWriter({ observationDomainId: 1 });
  w.addTemplate(t);
  w.addRecord(t, ['10.0.0.1', 1n]);
  w.flush();
  return w.drain();
}

describe('DecodePool', () => {
  it('a worker that ends early: its sessions\' messages are counted as dropped, new sessions go to live workers, nothing hangs', async () => {
    const stats = new CollectorStats();
    const pool = new DecodePool({ workers: 2, output: 'none', ringSize: 16, transport: 'udp', stats, write: () => true });
    try {
      pool.openSession(session(1));
      pool.openSession(session(2));
      const [msg] = messages();
      // Both workers decode: one record each.
      pool.dispatch(session(1), Buffer.from(msg!));
      pool.dispatch(session(2), Buffer.from(msg!));
      await pool.sync();
      assert.equal(stats.records, 2);
      const first = (pool as unknown as { slots: { worker: Worker }[] }).slots[0]!.worker;
      const exited = once(first, 'exit');
      await first.terminate();
      await exited;
      pool.dispatch(session(1), Buffer.from(msg!));
      assert.equal(stats.messagesDropped, 1, 'the message of the ended worker\'s session');
      pool.openSession(session(3));
      pool.dispatch(session(3), Buffer.from(msg!));
      await pool.sync();
      assert.equal(stats.messagesDropped, 1, 'the new session went to the live worker');
      assert.equal(stats.records, 3);
      const body = JSON.parse(await pool.recentRecords()) as { flowRecords: unknown[] };
      assert.equal(body.flowRecords.length, 2, 'the live worker\'s records');
    } finally {
      await pool.close();
    }
  });
});
