import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClusterState } from './cluster-state.ts';
import { classifyFlowType, FlowType } from './flow-type.ts';
import { nodeFromApi } from './from-api-objects.ts';

function cluster(): ClusterState {
  const state = new ClusterState({ localNodeName: 'node1' });
  state.upsertNode(nodeFromApi({ metadata: { name: 'node1' }, spec: { podCIDRs: ['10.244.1.0/24', 'fd00:10:244:1::/64'] } })!);
  state.upsertNode(nodeFromApi({ metadata: { name: 'node2' }, spec: { podCIDR: '10.244.2.0/24' } })!);
  return state;
}

describe('classifyFlowType (Antrea findFlowType + FromExternal)', () => {
  const state = cluster();
  const cases: {
    name: string;
    src: string;
    dst: string;
    srcLocal: boolean;
    dstLocal: boolean;
    want: number;
  }[] = [
    { name: 'both local Pods', src: '10.244.1.10', dst: '10.244.1.11', srcLocal: true, dstLocal: true, want: FlowType.IntraNode },
    { name: 'IPv6 local Pods', src: 'fd00:10:244:1::10', dst: 'fd00:10:244:1::11', srcLocal: true, dstLocal: true, want: FlowType.IntraNode },
    { name: 'local to remote Pod', src: '10.244.1.10', dst: '10.244.2.10', srcLocal: true, dstLocal: false, want: FlowType.InterNode },
    { name: 'remote to local Pod', src: '10.244.2.10', dst: '10.244.1.10', srcLocal: false, dstLocal: true, want: FlowType.InterNode },
    { name: 'Pod in Pod subnet, not resolved', src: '10.244.1.10', dst: '10.244.1.99', srcLocal: true, dstLocal: false, want: FlowType.InterNode },
    { name: 'Pod to outside the Pod network', src: '10.244.1.10', dst: '8.8.8.8', srcLocal: true, dstLocal: false, want: FlowType.ToExternal },
    { name: 'Pod to a hostNetwork Pod (Node IP)', src: '10.244.1.10', dst: '172.18.0.3', srcLocal: true, dstLocal: false, want: FlowType.ToExternal },
    { name: 'outside to a Pod', src: '192.0.2.1', dst: '10.244.1.10', srcLocal: false, dstLocal: true, want: FlowType.FromExternal },
    { name: 'outside to outside', src: '192.0.2.1', dst: '192.0.2.2', srcLocal: false, dstLocal: false, want: FlowType.Unsupported },
    { name: 'local gateway as source', src: '10.244.1.1', dst: '10.244.1.10', srcLocal: false, dstLocal: true, want: FlowType.Unsupported },
    { name: 'remote gateway as destination', src: '10.244.1.10', dst: '10.244.2.1', srcLocal: true, dstLocal: false, want: FlowType.Unsupported },
    { name: 'remote gateway to local Pod (NodePort SNAT)', src: '10.244.2.1', dst: '10.244.1.10', srcLocal: false, dstLocal: true, want: FlowType.Unsupported },
    { name: 'IPv6 gateway', src: 'fd00:10:244:1::1', dst: 'fd00:10:244:1::10', srcLocal: false, dstLocal: true, want: FlowType.Unsupported },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = classifyFlowType({ srcIP: c.src, dstIP: c.dst, srcIsLocalPod: c.srcLocal, dstIsLocalPod: c.dstLocal }, state);
      assert.equal(got, c.want);
    });
  }

  test('no Pod-subnet knowledge: 0 (unspecified)', () => {
    const conn = { srcIP: '10.244.1.10', dstIP: '10.244.1.11', srcIsLocalPod: true, dstIsLocalPod: true };
    assert.equal(classifyFlowType(conn, undefined), FlowType.Unspecified);
    assert.equal(classifyFlowType(conn, new ClusterState()), FlowType.Unspecified);
  });

  test('networkPolicyOnly mode: InterNode unless both Pods are local', () => {
    const conn = { srcIP: '10.244.1.10', dstIP: '8.8.8.8', srcIsLocalPod: true, dstIsLocalPod: false };
    assert.equal(classifyFlowType(conn, state, { networkPolicyOnly: true }), FlowType.InterNode);
    assert.equal(classifyFlowType({ ...conn, dstIsLocalPod: true }, state, { networkPolicyOnly: true }), FlowType.IntraNode);
  });
});
