/** Valid IPFIX messages used as seeds by the fuzz test and the fuzz benchmark. */
import { MessageWriter } from '../message-writer.ts';
import { agentTemplate, aggregatorTemplate } from '../antrea-templates.ts';
import { buildTemplate } from '../template.ts';
import type { FieldValue } from '../data-types.ts';

export function agentValues(i: number, family: 4 | 6 = 4): FieldValue[] {
  const src = family === 4 ? `10.244.${i % 8}.${(i * 7) % 250 + 2}` : `fd00:10:244:${i % 8}::${((i * 7) % 250 + 2).toString(16)}`;
  const dst = family === 4 ? `10.244.${(i + 3) % 8}.${(i * 13) % 250 + 2}` : `fd00:10:244:${(i + 3) % 8}::${((i * 13) % 250 + 2).toString(16)}`;
  return [
    1700000000 + i, 1700000005 + i, 1 + (i % 3), 30000 + (i % 30000), [80, 443, 5432, 9999][i % 4], i % 5 === 0 ? 17 : 6,
    BigInt(10 + i), BigInt(1500 * (10 + i)), BigInt(i % 10), BigInt(1500 * (i % 10)), src, dst,
    BigInt(8 + i), BigInt(900 * (8 + i)), BigInt(i % 8), BigInt(900 * (i % 8)),
    `frontend-7d9f8c6b5-${(i % 97).toString(36).padStart(5, 'x')}`, 'shop-frontend', `worker-node-${i % 3}`,
    i % 2 === 0 ? `backend-api-${i % 13}` : '', i % 2 === 0 ? 'shop-backend' : '', i % 2 === 0 ? `worker-node-${(i + 1) % 3}` : '',
    i % 4 === 0 ? 8080 : 0, i % 4 === 0 ? 'shop-backend/backend-api:http' : '',
    'allow-frontend-to-backend', 'shop-backend', 1, 'ingress-0', 1, '', '', 0, '', 0,
    i % 3 === 0 ? 'TIME_WAIT' : 'ESTABLISHED', 1 + (i % 3), '', '', '', '', '', family === 4 ? (i % 4 === 0 ? '10.96.12.34' : '0.0.0.0') : '::',
  ];
}

export function aggregatorValues(i: number, family: 4 | 6 = 4): FieldValue[] {
  const base = agentValues(i, family);
  const extra: FieldValue[] = [];
  for (let k = 0; k < 16; k++) extra.push(BigInt(i * 16 + k));
  extra.push(1700000005 + i, 1700000005 + i);
  for (let k = 0; k < 6; k++) extra.push(BigInt(1000000 + i * k));
  extra.push('{"app":"frontend","tier":"web"}', i % 2 === 0 ? '{"app":"backend"}' : '', '8b5c3f2e-1d4a-4b7e-9c2f-5a6d7e8f9012');
  return [...base, ...extra];
}

/** A varied set of valid messages: Antrea agent/aggregator templates, IPv4/IPv6, options, reduced sizes. */
export function seedMessages(): Buffer[] {
  const out: Buffer[] = [];
  const w = new MessageWriter({ observationDomainId: 0x1234, maxMessageSize: 1400, clock: () => 1700000000 });
  const a4 = agentTemplate(4);
  const a6 = agentTemplate(6);
  w.addTemplate(a4);
  w.addTemplate(a6);
  for (let i = 0; i < 12; i++) w.addRecord(i % 4 === 3 ? a6 : a4, agentValues(i, i % 4 === 3 ? 6 : 4));
  w.flush();
  const g4 = aggregatorTemplate(4, 300);
  w.addTemplate(g4);
  for (let i = 0; i < 5; i++) w.addRecord(g4, aggregatorValues(i));
  w.flush();
  const reduced = buildTemplate(301, [{ name: 'tcpControlBits', length: 1 }, { name: 'octetDeltaCount', length: 4 }, 'flowStartMilliseconds', 'sourceMacAddress', 'interfaceName']);
  const opt = buildTemplate(302, ['observationDomainId', 'exportedMessageTotalCount'], { scopeFieldCount: 1 });
  w.addTemplate(reduced);
  w.addTemplate(opt);
  w.addRecord(reduced, [0x12, 1000n, 1700000000123, '00:11:22:33:44:55', 'x'.repeat(300)]);
  w.addRecord(opt, [0x1234, 42n]);
  w.flush();
  w.withdrawTemplate(301);
  w.flush();
  out.push(...w.drain());
  return out;
}
