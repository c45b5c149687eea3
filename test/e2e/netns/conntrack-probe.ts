/**
 * Exercises the conntrack API in-process inside a namespace (a process reads only its own
 * namespace's table) and prints one JSON object with what it observed; test/e2e/conntrack.test.ts
 * runs it with `ip netns exec NODE node --import tsx test/e2e/netns/conntrack-probe.ts PEER_IP`.
 * PEER_IP receives a few UDP datagrams (port 7999) to trigger conntrack events.
 */
import { createSocket } from 'node:dgram';
import { ConntrackError } from '../../../src/errors.ts';
import { conntrackEvents } from '../../../src/conntrack/events.ts';
import { createConntrackSource } from '../../../src/conntrack/factory.ts';
import { NetlinkConntrackSource } from '../../../src/conntrack/netlink-source.ts';

async function sendUdp(address: string, port: number, sourcePort: number): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(sourcePort, resolve));
  await new Promise<void>((resolve, reject) => s.send('probe', port, address, (err) => (err ? reject(err) : resolve())));
  s.close();
}

async function main(): Promise<void> {
  const peer = process.argv[2];
  const out: Record<string, unknown> = {};
  const created = await createConntrackSource();
  out.factoryKind = created.kind;
  out.fallbackReason = created.fallbackReason ?? null;
  const source = created.source as NetlinkConntrackSource;

  const first = await source.dump(() => undefined);
  out.first = { visited: first.visited, received: first.received, malformed: first.malformed, hasDuration: first.durationMs > 0 };

  const boom = new Error('visitor failure');
  let seen = 0;
  const thrown = await source
    .dump(() => {
      seen++;
      throw boom;
    })
    .then(
      () => 'resolved',
      (err: unknown) => (err === boom ? 'rejected with the visitor error' : String(err)),
    );
  out.visitorThrow = { thrown, visitorCalls: seen };
  const after = await source.dump(() => undefined);
  out.afterThrowVisited = after.visited;

  const [c1, c2] = await Promise.all([source.dump(() => undefined), source.dump(() => undefined)]);
  out.concurrent = [c1.visited, c2.visited];
  out.dumpAllLength = (await source.dumpAll()).length;
  out.zone0 = (await source.dumpAll({ zone: 0 })).every((e) => e.zone === 0);
  out.badZone = await source.dump(() => undefined, { zone: 70_000 }).then(
    () => 'resolved',
    (err: unknown) => (err instanceof ConntrackError ? err.code : String(err)),
  );
  out.totals = source.totals;

  const events = await conntrackEvents({ events: ['new'] });
  await sendUdp(peer, 7999, 40777);
  for await (const ev of events) {
    if (ev.entry.original.srcPort === 40777) {
      out.event = { type: ev.type, dst: ev.entry.original.dst, dstPort: ev.entry.original.dstPort };
      break;
    }
  }

  source.close();
  out.afterClose = await source.dump(() => undefined).then(
    () => 'resolved',
    (err: unknown) => (err instanceof ConntrackError ? err.code : String(err)),
  );
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
