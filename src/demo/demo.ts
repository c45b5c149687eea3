/**
 * `flowvis demo`: the whole system on this machine, on real kernel flows. Network namespaces make
 * two Kubernetes-like nodes with four Pods and an aggregator host; one agent per node polls that
 * node's conntrack and NFLOG; the aggregator (TLS with generated certificates) correlates the
 * records into the embedded store and serves its API; a few client loops make traffic, including a
 * Service, an inter-node chain, an external stream and a connection a NetworkPolicy drops. Every
 * few seconds the demo prints what the aggregator sees, and says how to look at it yourself.
 * Everything it creates is removed when it stops (Ctrl-C, or --duration).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { NetnsCluster } from '../netlab/cluster.ts';
import { REPO_ROOT, run } from '../netlab/exec.ts';
import type { ManagedProcess } from '../netlab/exec.ts';
import { formatSummary, summarize } from './summary.ts';
import { DEMO_NODES, EXTERNAL_PORT, forwardRules, inventoryYaml, serviceNat, servers, trafficLoops } from './scenario.ts';

export interface DemoOptions {
  /** Seconds to run; 0 runs until SIGINT/SIGTERM. */
  durationSec: number;
  /** Seconds between two summaries. */
  reportEverySec: number;
  out: (line: string) => void;
  /** Resolves when the demo should stop early (signals). */
  stopSignal?: Promise<unknown>;
}

const FLOWVIS = join(REPO_ROOT, 'bin', 'flowvis');
const API_PORT = 10348;

async function preflight(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new ConfigError('DEMO_NEEDS_ROOT', 'the demo builds network namespaces and reads conntrack: run it as root (sudo npm start)');
  }
  for (const tool of ['ip', 'nft', 'socat']) {
    const r = await run(['bash', '-c', `command -v ${tool}`]).catch(() => ({ code: 1 }));
    if ((r as { code?: number }).code !== 0) {
      throw new ConfigError('DEMO_MISSING_TOOL', `the demo needs "${tool}" (Debian: apt-get install iproute2 nftables socat)`, { tool });
    }
  }
}

export async function runDemo(opts: DemoOptions): Promise<void> {
  await preflight();
  const say = opts.out;
  const work = await mkdtemp(join(tmpdir(), 'flowvis-demo-'));
  say('Building the lab: 2 nodes, 4 Pods and an aggregator host in network namespaces...');
  const cluster = await NetnsCluster.create({
    nodes: DEMO_NODES.map((n) => ({ name: n.name, pods: [...n.pods] })),
    aggregator: true,
    ipv6: false,
  }).catch(async (e: unknown) => {
    await rm(work, { recursive: true, force: true });
    throw e;
  });
  const procs: ManagedProcess[] = [];
  try {
    const agg = cluster.aggregator!;
    for (const n of DEMO_NODES) {
      await cluster.nft(n.name, serviceNat(cluster));
      const rules = forwardRules(cluster, n.name).map((r) => `insert rule inet fvt forward ${r}`).join('\n');
      if (rules) await cluster.nft(n.name, rules + '\n');
    }
    const inventory = join(work, 'inventory.yaml');
    await writeFile(inventory, inventoryYaml(cluster));
    const state = join(work, 'state');
    await writeFile(join(work, 'flow-aggregator.conf'), `# flowvis demo
flowAggregatorAddress: ${agg.ipv4}
aggregatorTransportProtocol: TLS
activeFlowRecordTimeout: 5s
inactiveFlowRecordTimeout: 10s
recordContents: {podLabels: true}
apiServer: {apiPort: ${API_PORT}}
embeddedStore: {enable: true, path: ${join(work, 'data')}, retention: 1h}
`);
    say('Starting the flow aggregator (TLS, embedded store, API on :10348)...');
    const aggregator = cluster.spawn('agg', [FLOWVIS, 'aggregator', '--config', join(work, 'flow-aggregator.conf'), '--inventory', inventory, '--state-dir', state]);
    procs.push(aggregator);
    await aggregator.waitForOutput(/flow aggregator started/, 60_000, 'stderr');
    for (const n of DEMO_NODES) {
      const conf = join(work, `antrea-agent-${n.name}.conf`);
      await writeFile(conf, `# flowvis demo: ${n.name}
featureGates: {FlowExporter: true}
flowExporter:
  enable: true
  flowCollectorAddr: "${agg.ipv4}:4739:tls"
  flowPollInterval: 1s
  activeFlowExportTimeout: 5s
  idleFlowExportTimeout: 15s
  nflog: {enable: true, group: 100}
  tls: {caFile: ${join(state, 'pki', 'ca.crt')}, certFile: ${join(state, 'pki', 'client.crt')}, keyFile: ${join(state, 'pki', 'client.key')}}
`);
      const agent = cluster.spawn(n.name, [FLOWVIS, 'exporter', '--config', conf, '--node-name', n.name, '--inventory', inventory, '--metrics-address', '127.0.0.1']);
      procs.push(agent);
      await agent.waitForOutput(/flow exporter started/, 60_000, 'stderr');
      say(`Agent on ${n.name} started (conntrack over netlink, NFLOG group 100).`);
    }
    for (const [pod, argv] of servers()) procs.push(cluster.spawn(pod, argv));
    procs.push(cluster.spawn('agg', ['socat', '-u', `TCP-LISTEN:${EXTERNAL_PORT},reuseaddr,fork`, 'OPEN:/dev/null']));
    for (const [pod, script] of trafficLoops(cluster, agg.ipv4)) procs.push(cluster.spawn(pod, ['bash', '-c', script]));
    say('Traffic is flowing: shopper → Service shop/web, web → api (other node), api → db, api → external, and shopper → db (denied).');
    say('');
    const getArgs = [FLOWVIS, 'get', '--server', `https://127.0.0.1:${API_PORT}`, '--token-file', join(state, 'api-token'), '--ca-file', join(state, 'pki', 'ca.crt')];
    const get = `ip netns exec ${agg.ns} ${getArgs.join(' ')}`;
    say('Look at the flows yourself (in another shell, as root):');
    say(`  ${get} flowrecords`);
    say(`  ${get} flowrecords --srcip ${cluster.pod('web').ipv4} -o json`);
    say(`  ${get} recordmetrics`);
    say(`  ${get} toptalkers --by pod        (also: flows, throughput, servicemap, policyhits: the embedded store)`);
    say(`  ip netns exec ${cluster.ns('node1')} curl -s http://127.0.0.1:10350/metrics | grep ^antrea`);
    say(`Flow records are stored in ${join(work, 'data')} (DuckDB). Stop with Ctrl-C.`);
    say('');
    const started = Date.now();
    const stop = opts.stopSignal ?? new Promise(() => {});
    let stopped = false;
    void stop.then(() => { stopped = true; });
    while (!stopped && (opts.durationSec === 0 || Date.now() - started < opts.durationSec * 1000)) {
      await Promise.race([new Promise((r) => setTimeout(r, opts.reportEverySec * 1000)), stop]);
      if (stopped) break;
      say(`--- ${Math.round((Date.now() - started) / 1000)} s: conversations in the flows the aggregator holds ---`);
      try {
        const json = await cluster.exec('agg', [...getArgs, 'flowrecords', '-o', 'json']);
        say(formatSummary(summarize(JSON.parse(json.stdout) as Record<string, unknown>[])));
        const metrics = await cluster.exec('agg', [...getArgs, 'recordmetrics']);
        say(metrics.stdout.trimEnd());
      } catch (e) {
        say(`(the aggregator's API does not answer yet: ${(e as Error).message.split('\n')[0]})`);
      }
      say('');
    }
    for (const p of procs) if (!p.running) say(`note: ${p.argv.slice(0, 3).join(' ')} exited with ${String(p.exitCode)}`);
  } finally {
    say('Stopping and removing the lab...');
    await cluster.destroy();
    await rm(work, { recursive: true, force: true });
  }
}
