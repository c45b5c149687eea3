/**
 * NetworkPolicy evaluation, table-driven: every selector, peer, port, ipBlock, endPort and
 * named-port case, policyTypes defaulting, isolation / deny semantics and deterministic choice
 * among several allowing policies.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClusterState } from '../../k8s/cluster-state.ts';
import { networkPolicyFromApi, podFromApi } from '../../k8s/from-api-objects.ts';
import { NetworkPolicyEvaluator, evaluateNetworkPolicies } from './evaluator.ts';
import { policyRecordFields, type PolicyVerdict } from './types.ts';

const TCP = 6;
const UDP = 17;
const SCTP = 132;
const ICMP = 1;

interface PodSpec {
  ns: string;
  name: string;
  ip: string;
  labels: Record<string, string>;
  ports?: { name: string; containerPort: number; protocol?: string }[];
}

const PODS: PodSpec[] = [
  {
    ns: 'prod', name: 'web', ip: '10.0.1.10', labels: { app: 'web', tier: 'front' },
    ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }],
  },
  { ns: 'prod', name: 'db', ip: '10.0.1.20', labels: { app: 'db' }, ports: [{ name: 'sql', containerPort: 5432 }] },
  { ns: 'prod', name: 'cache', ip: '10.0.1.30', labels: { app: 'cache', version: 'v2' }, ports: [{ name: 'http', containerPort: 6379 }] },
  { ns: 'prod', name: 'bare', ip: '10.0.1.40', labels: {} },
  { ns: 'prod', name: 'web6', ip: 'fd00::10', labels: { app: 'web6' } },
  { ns: 'dev', name: 'client', ip: '10.0.2.10', labels: { app: 'client' } },
  { ns: 'dev', name: 'web', ip: '10.0.2.20', labels: { app: 'web' } },
  { ns: 'other', name: 'tool', ip: '10.0.3.10', labels: { app: 'tool' } },
];

const NAMESPACES: Record<string, Record<string, string>> = {
  prod: { env: 'prod', team: 'a' },
  dev: { env: 'dev' },
  other: {},
};

const ip = (name: string): string => {
  const [ns, n] = name.split('/');
  const p = PODS.find((x) => x.ns === ns && x.name === n);
  if (p === undefined) throw new Error(`no pod ${name}`);
  return p.ip;
};

function buildCluster(policies: { ns?: string; name: string; spec: Record<string, unknown> }[]): ClusterState {
  const state = new ClusterState();
  for (const [name, labels] of Object.entries(NAMESPACES)) {
    state.upsertNamespace({ name, labels: { ...labels, 'kubernetes.io/metadata.name': name } });
  }
  for (const p of PODS) {
    const parsed = podFromApi({
      metadata: { name: p.name, namespace: p.ns, uid: `${p.ns}/${p.name}`, labels: p.labels },
      spec: { containers: [{ name: 'c', ports: p.ports ?? [] }] },
      status: { phase: 'Running', podIP: p.ip },
    })!;
    state.upsertPod(parsed.pod, { pending: false, creationTimestamp: 0 });
  }
  for (const np of policies) {
    state.upsertNetworkPolicy(networkPolicyFromApi({ metadata: { name: np.name, namespace: np.ns ?? 'prod' }, spec: np.spec })!);
  }
  return state;
}

/** "none" | "drop" | "allow:<ns>/<name>:<rule>" */
function describeVerdict(v: PolicyVerdict): string {
  if (v.ruleAction === 0) {
    assert.equal(v.policyType, 0);
    assert.equal(v.policyName, '');
    return 'none';
  }
  assert.equal(v.policyType, 1);
  if (v.ruleAction === 2) {
    assert.equal(v.policyName, '');
    assert.equal(v.ruleName, '');
    return 'drop';
  }
  return `allow:${v.policyNamespace}/${v.policyName}:${v.ruleName}`;
}

interface Case {
  name: string;
  policies: { ns?: string; name: string; spec: Record<string, unknown> }[];
  src: string;
  dst: string;
  proto?: number;
  port: number;
  ingress: string;
  egress?: string;
}

const denyIngress = { name: 'deny', spec: { podSelector: {} } };
const sel = (matchLabels: Record<string, string>) => ({ matchLabels });
const allowFrom = (from: unknown[], podSelector: object = sel({ app: 'db' })) => ({ podSelector, ingress: [{ from }] });
const allowPorts = (ports: unknown[], podSelector: object = sel({ app: 'web' })) => ({ podSelector, ingress: [{ ports }] });

const CASES: Case[] = [
  // ---- isolation ----
  { name: 'no policies: nothing isolated', policies: [], src: ip('dev/client'), dst: ip('prod/web'), port: 80, ingress: 'none', egress: 'none' },
  { name: 'deny-all ingress isolates every Pod of the namespace', policies: [denyIngress], src: ip('dev/client'), dst: ip('prod/web'), port: 80, ingress: 'drop', egress: 'none' },
  { name: 'deny-all ingress does not touch other namespaces', policies: [denyIngress], src: ip('prod/web'), dst: ip('dev/client'), port: 80, ingress: 'none', egress: 'none' },
  { name: 'allow-all ingress rule ({})', policies: [{ name: 'all', spec: { podSelector: {}, ingress: [{}] } }], src: '198.51.100.1', dst: ip('prod/db'), port: 1, ingress: 'allow:prod/all:ingress-0' },
  { name: 'a policy not selecting the destination leaves it open', policies: [{ name: 'db-only', spec: allowFrom([{ podSelector: sel({ app: 'web' }) }]) }], src: ip('prod/web'), dst: ip('prod/cache'), port: 1, ingress: 'none' },
  { name: 'traffic from a non-Pod address to an isolated Pod', policies: [{ name: 'p', spec: allowFrom([{ podSelector: {} }]) }], src: '198.51.100.1', dst: ip('prod/db'), port: 5432, ingress: 'drop' },
  { name: 'a non-Pod destination has no ingress verdict', policies: [denyIngress], src: ip('dev/client'), dst: '198.51.100.1', port: 80, ingress: 'none', egress: 'none' },

  // ---- podSelector ----
  { name: 'podSelector matchLabels allows the selected Pod', policies: [{ name: 'p', spec: allowFrom([{ podSelector: sel({ app: 'web' }) }]) }], src: ip('prod/web'), dst: ip('prod/db'), port: 5432, ingress: 'allow:prod/p:ingress-0' },
  { name: 'podSelector matchLabels refuses another Pod', policies: [{ name: 'p', spec: allowFrom([{ podSelector: sel({ app: 'web' }) }]) }], src: ip('prod/cache'), dst: ip('prod/db'), port: 5432, ingress: 'drop' },
  { name: 'podSelector alone only selects the policy namespace', policies: [{ name: 'p', spec: allowFrom([{ podSelector: sel({ app: 'web' }) }]) }], src: ip('dev/web'), dst: ip('prod/db'), port: 5432, ingress: 'drop' },
  { name: 'empty podSelector: every Pod of the namespace', policies: [{ name: 'p', spec: allowFrom([{ podSelector: {} }]) }], src: ip('prod/bare'), dst: ip('prod/db'), port: 5432, ingress: 'allow:prod/p:ingress-0' },
  { name: 'matchLabels with two labels needs both', policies: [{ name: 'p', spec: allowFrom([{ podSelector: sel({ app: 'web', tier: 'back' }) }]) }], src: ip('prod/web'), dst: ip('prod/db'), port: 1, ingress: 'drop' },
  { name: 'matchExpressions In', policies: [{ name: 'p', spec: allowFrom([{ podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'cache'] }] } }]) }], src: ip('prod/cache'), dst: ip('prod/db'), port: 1, ingress: 'allow:prod/p:ingress-0' },
  { name: 'matchExpressions In, value not listed', policies: [{ name: 'p', spec: allowFrom([{ podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['cache'] }] } }]) }], src: ip('prod/web'), dst: ip('prod/db'), port: 1, ingress: 'drop' },
  { name: 'matchExpressions NotIn refuses a listed value', policies: [{ name: 'p', spec: allowFrom([{ podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] } }]) }], src: ip('prod/web'), dst: ip('prod/db'), port: 1, ingress: 'drop' },
  { name: 'matchExpressions NotIn matches a Pod without the key', policies: [{ name: 'p', spec: allowFrom([{ podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] } }]) }], src: ip('prod/bare'), dst: ip('prod/db'), port: 1, ingress: 'allow:prod/p:ingress-0' },
  { name: 'matchExpressions Exists', policies: [{ name: 'p', spec: allowFrom([{ podSelector: { matchExpressions: [{ key: 'version', operator: 'Exists' }] } }]) }], src: ip('prod/cache'), dst: ip('prod/db'), port: 1, ingress: 'allow:prod/p:ingress-0' },
  { name: 'matchExpressions Exists, key absent', policies: [{ name: 'p', spec: allowFrom([{ podSelector: { matchExpressions: [{ key: 'version', operator: 'Exists' }] } }]) }], src: ip('prod/web'), dst: ip('prod/db'), port: 1, ingress: 'drop' },
  { name: 'matchExpressions DoesNotExist', policies: [{ name: 'p', spec: allowFrom([{ podSelector: { matchExpressions: [{ key: 'version', operator: 'DoesNotExist' }] } }]) }], src: ip('prod/web'), dst: ip('prod/db'), port: 1, ingress: 'allow:prod/p:ingress-0' },
  { name: 'matchExpressions DoesNotExist, key present', policies: [{ name: 'p', spec: allowFrom([{ podSelector: { matchExpressions: [{ key: 'version', operator: 'DoesNotExist' }] } }]) }], src: ip('prod/cache'), dst: ip('prod/db'), port: 1, ingress: 'drop' },
  { name: 'matchLabels and matchExpressions are ANDed', policies: [{ name: 'p', spec: allowFrom([{ podSelector: { matchLabels: { app: 'cache' }, matchExpressions: [{ key: 'version', operator: 'In', values: ['v1'] }] } }]) }], src: ip('prod/cache'), dst: ip('prod/db'), port: 1, ingress: 'drop' },
  { name: 'the policy podSelector uses expressions too', policies: [{ name: 'p', spec: { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'cache'] }] } } }], src: ip('prod/web'), dst: ip('prod/cache'), port: 1, ingress: 'drop' },

  // ---- namespaceSelector ----
  { name: 'namespaceSelector alone: every Pod of the selected namespaces', policies: [{ name: 'p', spec: allowFrom([{ namespaceSelector: sel({ env: 'dev' }) }]) }], src: ip('dev/client'), dst: ip('prod/db'), port: 1, ingress: 'allow:prod/p:ingress-0' },
  { name: 'namespaceSelector refuses other namespaces', policies: [{ name: 'p', spec: allowFrom([{ namespaceSelector: sel({ env: 'dev' }) }]) }], src: ip('other/tool'), dst: ip('prod/db'), port: 1, ingress: 'drop' },
  { name: 'namespaceSelector refuses the own namespace when it does not match', policies: [{ name: 'p', spec: allowFrom([{ namespaceSelector: sel({ env: 'dev' }) }]) }], src: ip('prod/web'), dst: ip('prod/db'), port: 1, ingress: 'drop' },
  { name: 'empty namespaceSelector: every namespace', policies: [{ name: 'p', spec: allowFrom([{ namespaceSelector: {} }]) }], src: ip('other/tool'), dst: ip('prod/db'), port: 1, ingress: 'allow:prod/p:ingress-0' },
  { name: 'namespaceSelector on kubernetes.io/metadata.name', policies: [{ name: 'p', spec: allowFrom([{ namespaceSelector: sel({ 'kubernetes.io/metadata.name': 'other' }) }]) }], src: ip('other/tool'), dst: ip('prod/db'), port: 1, ingress: 'allow:prod/p:ingress-0' },
  { name: 'namespaceSelector with expressions', policies: [{ name: 'p', spec: allowFrom([{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] } }]) }], src: ip('other/tool'), dst: ip('prod/db'), port: 1, ingress: 'allow:prod/p:ingress-0' },
  { name: 'namespaceSelector and podSelector in one peer: both must match', policies: [{ name: 'p', spec: allowFrom([{ namespaceSelector: sel({ env: 'dev' }), podSelector: sel({ app: 'client' }) }]) }], src: ip('dev/client'), dst: ip('prod/db'), port: 1, ingress: 'allow:prod/p:ingress-0' },
  { name: 'namespaceSelector and podSelector in one peer: wrong Pod', policies: [{ name: 'p', spec: allowFrom([{ namespaceSelector: sel({ env: 'dev' }), podSelector: sel({ app: 'client' }) }]) }], src: ip('dev/web'), dst: ip('prod/db'), port: 1, ingress: 'drop' },
  { name: 'namespaceSelector and podSelector in one peer: right Pod labels, wrong namespace', policies: [{ name: 'p', spec: allowFrom([{ namespaceSelector: sel({ env: 'dev' }), podSelector: sel({ app: 'web' }) }]) }], src: ip('prod/web'), dst: ip('prod/db'), port: 1, ingress: 'drop' },
  { name: 'two peers are ORed (podSelector one)', policies: [{ name: 'p', spec: allowFrom([{ namespaceSelector: sel({ env: 'dev' }) }, { podSelector: sel({ app: 'web' }) }]) }], src: ip('prod/web'), dst: ip('prod/db'), port: 1, ingress: 'allow:prod/p:ingress-0' },
  { name: 'two peers are ORed (namespaceSelector one)', policies: [{ name: 'p', spec: allowFrom([{ namespaceSelector: sel({ env: 'dev' }) }, { podSelector: sel({ app: 'web' }) }]) }], src: ip('dev/web'), dst: ip('prod/db'), port: 1, ingress: 'allow:prod/p:ingress-0' },
  { name: 'two peers are ORed (neither)', policies: [{ name: 'p', spec: allowFrom([{ namespaceSelector: sel({ env: 'dev' }) }, { podSelector: sel({ app: 'web' }) }]) }], src: ip('other/tool'), dst: ip('prod/db'), port: 1, ingress: 'drop' },

  // ---- ipBlock ----
  { name: 'ipBlock inside cidr', policies: [{ name: 'p', spec: allowFrom([{ ipBlock: { cidr: '192.0.2.0/24', except: ['192.0.2.5/32'] } }]) }], src: '192.0.2.6', dst: ip('prod/db'), port: 1, ingress: 'allow:prod/p:ingress-0' },
  { name: 'ipBlock except', policies: [{ name: 'p', spec: allowFrom([{ ipBlock: { cidr: '192.0.2.0/24', except: ['192.0.2.5/32'] } }]) }], src: '192.0.2.5', dst: ip('prod/db'), port: 1, ingress: 'drop' },
  { name: 'ipBlock outside cidr', policies: [{ name: 'p', spec: allowFrom([{ ipBlock: { cidr: '192.0.2.0/24' } }]) }], src: '203.0.113.9', dst: ip('prod/db'), port: 1, ingress: 'drop' },
  { name: 'ipBlock also matches Pod addresses', policies: [{ name: 'p', spec: allowFrom([{ ipBlock: { cidr: '10.0.2.0/24' } }]) }], src: ip('dev/client'), dst: ip('prod/db'), port: 1, ingress: 'allow:prod/p:ingress-0' },
  { name: 'IPv6 ipBlock', policies: [{ name: 'p', spec: allowFrom([{ ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8::5/128'] } }], sel({ app: 'web6' })) }], src: '2001:db8::6', dst: ip('prod/web6'), port: 1, ingress: 'allow:prod/p:ingress-0' },
  { name: 'IPv6 ipBlock except', policies: [{ name: 'p', spec: allowFrom([{ ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8::5/128'] } }], sel({ app: 'web6' })) }], src: '2001:DB8:0::5', dst: ip('prod/web6'), port: 1, ingress: 'drop' },
  { name: 'an IPv6 ipBlock never matches IPv4', policies: [{ name: 'p', spec: allowFrom([{ ipBlock: { cidr: '::/0' } }]) }], src: '192.0.2.6', dst: ip('prod/db'), port: 1, ingress: 'drop' },

  // ---- ports ----
  { name: 'numeric port matches', policies: [{ name: 'p', spec: allowPorts([{ port: 8080 }]) }], src: ip('dev/client'), dst: ip('prod/web'), port: 8080, ingress: 'allow:prod/p:ingress-0' },
  { name: 'numeric port, other port', policies: [{ name: 'p', spec: allowPorts([{ port: 8080 }]) }], src: ip('dev/client'), dst: ip('prod/web'), port: 8081, ingress: 'drop' },
  { name: 'protocol defaults to TCP', policies: [{ name: 'p', spec: allowPorts([{ port: 8080 }]) }], src: ip('dev/client'), dst: ip('prod/web'), proto: UDP, port: 8080, ingress: 'drop' },
  { name: 'UDP port', policies: [{ name: 'p', spec: allowPorts([{ protocol: 'UDP', port: 53 }]) }], src: ip('dev/client'), dst: ip('prod/web'), proto: UDP, port: 53, ingress: 'allow:prod/p:ingress-0' },
  { name: 'UDP port, TCP connection', policies: [{ name: 'p', spec: allowPorts([{ protocol: 'UDP', port: 53 }]) }], src: ip('dev/client'), dst: ip('prod/web'), port: 53, ingress: 'drop' },
  { name: 'SCTP port', policies: [{ name: 'p', spec: allowPorts([{ protocol: 'SCTP', port: 3868 }]) }], src: ip('dev/client'), dst: ip('prod/web'), proto: SCTP, port: 3868, ingress: 'allow:prod/p:ingress-0' },
  { name: 'protocol without port: every port of it', policies: [{ name: 'p', spec: allowPorts([{ protocol: 'UDP' }]) }], src: ip('dev/client'), dst: ip('prod/web'), proto: UDP, port: 12345, ingress: 'allow:prod/p:ingress-0' },
  { name: 'protocol without port, other protocol', policies: [{ name: 'p', spec: allowPorts([{ protocol: 'UDP' }]) }], src: ip('dev/client'), dst: ip('prod/web'), port: 12345, ingress: 'drop' },
  { name: 'several port entries are ORed', policies: [{ name: 'p', spec: allowPorts([{ port: 80 }, { port: 443 }]) }], src: ip('dev/client'), dst: ip('prod/web'), port: 443, ingress: 'allow:prod/p:ingress-0' },
  { name: 'endPort lower bound', policies: [{ name: 'p', spec: allowPorts([{ port: 8000, endPort: 8100 }]) }], src: ip('dev/client'), dst: ip('prod/web'), port: 8000, ingress: 'allow:prod/p:ingress-0' },
  { name: 'endPort upper bound', policies: [{ name: 'p', spec: allowPorts([{ port: 8000, endPort: 8100 }]) }], src: ip('dev/client'), dst: ip('prod/web'), port: 8100, ingress: 'allow:prod/p:ingress-0' },
  { name: 'endPort above the range', policies: [{ name: 'p', spec: allowPorts([{ port: 8000, endPort: 8100 }]) }], src: ip('dev/client'), dst: ip('prod/web'), port: 8101, ingress: 'drop' },
  { name: 'endPort below the range', policies: [{ name: 'p', spec: allowPorts([{ port: 8000, endPort: 8100 }]) }], src: ip('dev/client'), dst: ip('prod/web'), port: 7999, ingress: 'drop' },
  { name: 'named port resolved on the destination Pod', policies: [{ name: 'p', spec: allowPorts([{ port: 'http' }]) }], src: ip('dev/client'), dst: ip('prod/web'), port: 8080, ingress: 'allow:prod/p:ingress-0' },
  { name: 'named port, another container port', policies: [{ name: 'p', spec: allowPorts([{ port: 'http' }]) }], src: ip('dev/client'), dst: ip('prod/web'), port: 9090, ingress: 'drop' },
  { name: 'named port means a different number on another Pod', policies: [{ name: 'p', spec: allowPorts([{ port: 'http' }], sel({ app: 'cache' })) }], src: ip('dev/client'), dst: ip('prod/cache'), port: 6379, ingress: 'allow:prod/p:ingress-0' },
  { name: 'named port absent from the destination Pod', policies: [{ name: 'p', spec: allowPorts([{ port: 'http' }], {}) }], src: ip('dev/client'), dst: ip('prod/db'), port: 8080, ingress: 'drop' },
  { name: 'named UDP port', policies: [{ name: 'p', spec: allowPorts([{ port: 'dns', protocol: 'UDP' }]) }], src: ip('dev/client'), dst: ip('prod/web'), proto: UDP, port: 53, ingress: 'allow:prod/p:ingress-0' },
  { name: 'named port with the wrong protocol', policies: [{ name: 'p', spec: allowPorts([{ port: 'dns' }]) }], src: ip('dev/client'), dst: ip('prod/web'), port: 53, ingress: 'drop' },
  { name: 'ICMP never matches a rule with ports', policies: [{ name: 'p', spec: allowPorts([{ port: 8080 }]) }], src: ip('dev/client'), dst: ip('prod/web'), proto: ICMP, port: 0, ingress: 'drop' },
  { name: 'ICMP matches a rule without ports', policies: [{ name: 'p', spec: allowFrom([{ podSelector: {} }], sel({ app: 'web' })) }], src: ip('prod/db'), dst: ip('prod/web'), proto: ICMP, port: 0, ingress: 'allow:prod/p:ingress-0' },
  { name: 'peer and port must both match', policies: [{ name: 'p', spec: { podSelector: sel({ app: 'db' }), ingress: [{ from: [{ podSelector: sel({ app: 'web' }) }], ports: [{ port: 5432 }] }] } }], src: ip('prod/web'), dst: ip('prod/db'), port: 5433, ingress: 'drop' },

  // ---- egress and policyTypes ----
  { name: 'egress rule allows', policies: [{ name: 'e', spec: { podSelector: sel({ app: 'web' }), policyTypes: ['Egress'], egress: [{ to: [{ podSelector: sel({ app: 'db' }) }], ports: [{ port: 5432 }] }] } }], src: ip('prod/web'), dst: ip('prod/db'), port: 5432, ingress: 'none', egress: 'allow:prod/e:egress-0' },
  { name: 'egress rule, other destination', policies: [{ name: 'e', spec: { podSelector: sel({ app: 'web' }), policyTypes: ['Egress'], egress: [{ to: [{ podSelector: sel({ app: 'db' }) }] }] } }], src: ip('prod/web'), dst: ip('prod/cache'), port: 6379, ingress: 'none', egress: 'drop' },
  { name: 'Egress-only policy does not isolate ingress', policies: [{ name: 'e', spec: { podSelector: {}, policyTypes: ['Egress'] } }], src: ip('dev/client'), dst: ip('prod/web'), port: 80, ingress: 'none', egress: 'none' },
  { name: 'Egress-only policy without rules denies all egress', policies: [{ name: 'e', spec: { podSelector: {}, policyTypes: ['Egress'] } }], src: ip('prod/web'), dst: '8.8.8.8', proto: UDP, port: 53, ingress: 'none', egress: 'drop' },
  { name: 'egress rules without policyTypes imply Ingress and Egress', policies: [{ name: 'e', spec: { podSelector: sel({ app: 'web' }), egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] } }], src: ip('prod/db'), dst: ip('prod/web'), port: 8080, ingress: 'drop', egress: 'none' },
  { name: 'egress to an ipBlock with except', policies: [{ name: 'e', spec: { podSelector: sel({ app: 'web' }), policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }] } }], src: ip('prod/web'), dst: '8.8.8.8', port: 443, ingress: 'none', egress: 'allow:prod/e:egress-0' },
  { name: 'egress to an excepted range', policies: [{ name: 'e', spec: { podSelector: sel({ app: 'web' }), policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }] } }], src: ip('prod/web'), dst: ip('dev/client'), port: 443, ingress: 'none', egress: 'drop' },
  { name: 'egress named port resolved on the destination Pod', policies: [{ name: 'e', spec: { podSelector: sel({ app: 'web' }), policyTypes: ['Egress'], egress: [{ ports: [{ port: 'sql' }] }] } }], src: ip('prod/web'), dst: ip('prod/db'), port: 5432, ingress: 'none', egress: 'allow:prod/e:egress-0' },
  { name: 'egress named port to a non-Pod never matches', policies: [{ name: 'e', spec: { podSelector: sel({ app: 'web' }), policyTypes: ['Egress'], egress: [{ ports: [{ port: 'sql' }] }] } }], src: ip('prod/web'), dst: '203.0.113.9', port: 5432, ingress: 'none', egress: 'drop' },
  { name: 'egress to a namespace', policies: [{ name: 'e', spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: sel({ env: 'dev' }) }] }] } }], src: ip('prod/web'), dst: ip('dev/web'), port: 80, ingress: 'none', egress: 'allow:prod/e:egress-0' },
  { name: 'both directions at once', policies: [denyIngress, { ns: 'dev', name: 'e', spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] } }], src: ip('dev/client'), dst: ip('prod/web'), port: 80, ingress: 'drop', egress: 'allow:dev/e:egress-0' },

  // ---- several policies and rules ----
  { name: 'the second rule of a policy', policies: [{ name: 'p', spec: { podSelector: sel({ app: 'db' }), ingress: [{ from: [{ podSelector: sel({ app: 'cache' }) }] }, { from: [{ podSelector: sel({ app: 'web' }) }] }] } }], src: ip('prod/web'), dst: ip('prod/db'), port: 1, ingress: 'allow:prod/p:ingress-1' },
  { name: 'first allowing rule wins within a policy', policies: [{ name: 'p', spec: { podSelector: sel({ app: 'db' }), ingress: [{ ports: [{ port: 5432 }] }, {}] } }], src: ip('prod/web'), dst: ip('prod/db'), port: 5432, ingress: 'allow:prod/p:ingress-0' },
  { name: 'several allowing policies: the first by name', policies: [{ name: 'z-all', spec: { podSelector: {}, ingress: [{}] } }, { name: 'a-web', spec: allowFrom([{ podSelector: sel({ app: 'web' }) }]) }], src: ip('prod/web'), dst: ip('prod/db'), port: 1, ingress: 'allow:prod/a-web:ingress-0' },
  { name: 'any selecting policy may allow (union)', policies: [denyIngress, { name: 'web', spec: allowFrom([{ podSelector: sel({ app: 'web' }) }]) }], src: ip('prod/web'), dst: ip('prod/db'), port: 1, ingress: 'allow:prod/web:ingress-0' },
  { name: 'policies of other namespaces do not apply', policies: [{ ns: 'dev', name: 'all', spec: { podSelector: {}, ingress: [{}] } }, denyIngress], src: ip('dev/client'), dst: ip('prod/db'), port: 1, ingress: 'drop' },
];

describe('NetworkPolicy evaluation', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const state = buildCluster(c.policies);
      const result = evaluateNetworkPolicies(state, { srcIP: c.src, dstIP: c.dst, protocolIdentifier: c.proto ?? TCP, dstPort: c.port });
      assert.equal(describeVerdict(result.ingress), c.ingress, 'ingress');
      if (c.egress !== undefined) assert.equal(describeVerdict(result.egress), c.egress, 'egress');
    });
  }

  test('a drop lists the isolating policies; the record fields carry the Antrea values', () => {
    const state = buildCluster([
      { name: 'b-db', spec: allowFrom([{ podSelector: sel({ app: 'nobody' }) }]) },
      { name: 'a-deny', spec: { podSelector: {} } },
      { name: 'c-egress-only', spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] } },
    ]);
    const r = evaluateNetworkPolicies(state, { srcIP: ip('prod/web'), dstIP: ip('prod/db'), protocolIdentifier: TCP, dstPort: 5432 });
    assert.deepEqual(r.ingress.isolatedBy, ['prod/a-deny', 'prod/b-db']);
    assert.deepEqual(policyRecordFields(r), {
      ingressNetworkPolicyName: '',
      ingressNetworkPolicyNamespace: '',
      ingressNetworkPolicyType: 1,
      ingressNetworkPolicyRuleName: '',
      ingressNetworkPolicyRuleAction: 2,
      egressNetworkPolicyName: 'c-egress-only',
      egressNetworkPolicyNamespace: 'prod',
      egressNetworkPolicyType: 1,
      egressNetworkPolicyRuleName: 'egress-0',
      egressNetworkPolicyRuleAction: 1,
    });
  });

  test('a long-lived evaluator follows Pod, Namespace and policy changes', () => {
    const state = buildCluster([{ name: 'p', spec: allowFrom([{ namespaceSelector: sel({ env: 'dev' }), podSelector: sel({ app: 'client' }) }]) }]);
    const ev = new NetworkPolicyEvaluator(state);
    const conn = { srcIP: ip('other/tool'), dstIP: ip('prod/db'), protocolIdentifier: TCP, dstPort: 5432 };
    assert.equal(describeVerdict(ev.evaluate(conn).ingress), 'drop');
    // The source Pod is relabelled, its namespace gains the label: now allowed.
    state.upsertPod({ ...state.getPod('other', 'tool')!, labels: { app: 'client' } }, { pending: false, creationTimestamp: 0 });
    assert.equal(describeVerdict(ev.evaluate(conn).ingress), 'drop');
    state.upsertNamespace({ name: 'other', labels: { env: 'dev', 'kubernetes.io/metadata.name': 'other' } });
    assert.equal(describeVerdict(ev.evaluate(conn).ingress), 'allow:prod/p:ingress-0');
    // The destination Pod is relabelled out of the policy: no longer isolated.
    state.upsertPod({ ...state.getPod('prod', 'db')!, labels: { app: 'db2' } }, { pending: false, creationTimestamp: 0 });
    assert.equal(describeVerdict(ev.evaluate(conn).ingress), 'none');
    // A new deny-all policy isolates it again.
    state.upsertNetworkPolicy(networkPolicyFromApi({ metadata: { name: 'deny', namespace: 'prod' }, spec: { podSelector: {} } })!);
    assert.equal(describeVerdict(ev.evaluate(conn).ingress), 'drop');
    state.deleteNetworkPolicy('prod', 'deny');
    assert.equal(describeVerdict(ev.evaluate(conn).ingress), 'none');
  });

  test('with a flow start time, Pods are resolved at that time (IP reuse)', () => {
    const clock = { s: 1000 };
    const state = new ClusterState({ clock: () => clock.s * 1000 });
    state.upsertNamespace({ name: 'prod', labels: { 'kubernetes.io/metadata.name': 'prod' } });
    const mk = (name: string, uid: string, labels: Record<string, string>) => ({
      uid, name, namespace: 'prod', nodeName: 'n1', ips: ['10.0.9.9'], labels, containerPorts: [],
    });
    state.upsertPod(mk('old', 'u-old', { app: 'db' }), { pending: false, creationTimestamp: 500 });
    state.upsertPod(mk('client', 'u-c', { app: 'client' }), { pending: false, creationTimestamp: 500 });
    state.upsertPod({ ...mk('client', 'u-c', { app: 'client' }), ips: ['10.0.9.1'] }, { pending: false, creationTimestamp: 500 });
    clock.s = 2000;
    state.deletePod({ uid: 'u-old', namespace: 'prod', name: 'old' });
    clock.s = 2010;
    state.upsertPod(mk('new', 'u-new', { app: 'web' }), { pending: true, creationTimestamp: undefined });
    state.upsertNetworkPolicy(networkPolicyFromApi({ metadata: { name: 'db', namespace: 'prod' }, spec: { podSelector: sel({ app: 'db' }) } })!);
    const ev = new NetworkPolicyEvaluator(state);
    const at = (t: number) => ev.evaluate({ srcIP: '10.0.9.1', dstIP: '10.0.9.9', protocolIdentifier: TCP, dstPort: 1, timeSeconds: t });
    assert.equal(describeVerdict(at(1500).ingress), 'drop', 'the old db Pod held the IP then');
    assert.equal(describeVerdict(at(2020).ingress), 'none', 'the new web Pod holds it now');
  });
});
