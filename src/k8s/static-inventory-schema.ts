/**
 * The static inventory file: the cluster described in YAML, for clusters without API access and
 * for the demo. Every list is optional.
 *
 *   nodes:
 *     - name: node1
 *       podCIDRs: [10.244.1.0/24]          # or podCIDR: 10.244.1.0/24
 *       ips: [172.18.0.2]                  # InternalIP addresses
 *       externalIPs: []                    # optional
 *       gatewayIPs: [10.244.1.1]           # optional; default: first host address of each podCIDR
 *   pods:
 *     - name: web-1
 *       namespace: default                 # default "default"
 *       ips: [10.244.1.10]                 # or ip: 10.244.1.10
 *       node: node1
 *       labels: {app: web}
 *       containerPorts: [{name: http, containerPort: 8080, protocol: TCP}]   # optional
 *       creationTimestamp: "2024-05-01T10:00:00Z"                             # optional
 *   services:
 *     - namespace: default
 *       name: web
 *       clusterIPs: [10.96.0.10]           # or clusterIP: 10.96.0.10
 *       ports: [{name: http, port: 80, protocol: TCP, targetPort: http, nodePort: 30080}]
 *   namespaces:
 *     - name: default
 *       labels: {team: a}
 *   networkPolicies:                       # Kubernetes networking.k8s.io/v1 NetworkPolicy objects
 *     - apiVersion: networking.k8s.io/v1
 *       kind: NetworkPolicy
 *       metadata: {name: allow-web, namespace: default}
 *       spec: {podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{port: 8080}]}]}
 */
import { z } from 'zod';
import { normalizeIP, parseCidr } from './ip.ts';

const ip = z
  .string()
  .refine((v) => normalizeIP(v) !== undefined, (v) => ({ message: `invalid IP address ${JSON.stringify(v)}` }));
const cidr = z
  .string()
  .refine((v) => parseCidr(v) !== undefined, (v) => ({ message: `invalid CIDR ${JSON.stringify(v)}` }));
const name = z.string().min(1, 'must not be empty');
const labels = z.record(z.string(), z.string()).default({});
const protocol = z.enum(['TCP', 'UDP', 'SCTP']);
const portNumber = z.number().int().min(1).max(65535);
const ianaServiceName = z
  .string()
  .regex(/^(?=.{1,15}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must be a port number or an IANA service name (1-15 lower-case letters, digits, "-")')
  .refine((v) => /[a-z]/.test(v), 'a named port must contain a letter');
const timestamp = z
  .string()
  .refine((v) => Number.isFinite(Date.parse(v)), (v) => ({ message: `invalid RFC 3339 timestamp ${JSON.stringify(v)}` }));

export const nodeSchema = z
  .object({
    name,
    uid: z.string().optional(),
    podCIDR: cidr.optional(),
    podCIDRs: z.array(cidr).optional(),
    ips: z.array(ip).default([]),
    externalIPs: z.array(ip).default([]),
    gatewayIPs: z.array(ip).optional(),
  })
  .strict();

export const podSchema = z
  .object({
    name,
    namespace: name.default('default'),
    uid: z.string().optional(),
    ip: ip.optional(),
    ips: z.array(ip).optional(),
    node: z.string().default(''),
    labels,
    containerPorts: z
      .array(z.object({ name: ianaServiceName.optional(), containerPort: portNumber, protocol: protocol.default('TCP') }).strict())
      .default([]),
    creationTimestamp: timestamp.optional(),
  })
  .strict();

export const serviceSchema = z
  .object({
    namespace: name.default('default'),
    name,
    clusterIP: ip.optional(),
    clusterIPs: z.array(ip).optional(),
    externalIPs: z.array(ip).default([]),
    ports: z
      .array(
        z
          .object({
            name: z.string().default(''),
            port: portNumber,
            protocol: protocol.default('TCP'),
            targetPort: z.union([portNumber, ianaServiceName]).optional(),
            nodePort: portNumber.optional(),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export const namespaceSchema = z.object({ name, labels }).strict();

const labelSelector = z
  .object({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z
      .array(
        z
          .object({
            key: name,
            operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
            values: z.array(z.string()).optional(),
          })
          .strict()
          .superRefine((req, ctx) => {
            const n = req.values?.length ?? 0;
            if ((req.operator === 'In' || req.operator === 'NotIn') && n === 0) {
              ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${req.operator} needs at least one value` });
            }
            if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && n > 0) {
              ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${req.operator} takes no values` });
            }
          }),
      )
      .optional(),
  })
  .strict();

const peer = z
  .object({
    podSelector: labelSelector.optional(),
    namespaceSelector: labelSelector.optional(),
    ipBlock: z.object({ cidr, except: z.array(cidr).optional() }).strict().optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.ipBlock !== undefined && (p.podSelector !== undefined || p.namespaceSelector !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'ipBlock cannot be combined with podSelector or namespaceSelector' });
    }
    if (p.ipBlock === undefined && p.podSelector === undefined && p.namespaceSelector === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a peer needs podSelector, namespaceSelector or ipBlock' });
    }
  });

const policyPort = z
  .object({
    protocol: protocol.default('TCP'),
    port: z.union([portNumber, ianaServiceName]).optional(),
    endPort: portNumber.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.endPort === undefined) return;
    if (typeof p.port !== 'number') {
      ctx.addIssue({ code: 'custom', path: ['endPort'], message: 'endPort needs a numeric port' });
    } else if (p.endPort < p.port) {
      ctx.addIssue({ code: 'custom', path: ['endPort'], message: `endPort ${p.endPort} is below port ${p.port}` });
    }
  });

export const networkPolicySchema = z
  .object({
    apiVersion: z.literal('networking.k8s.io/v1').optional(),
    kind: z.literal('NetworkPolicy').optional(),
    metadata: z.object({ name, namespace: name.default('default'), uid: z.string().optional() }).passthrough(),
    spec: z
      .object({
        podSelector: labelSelector.default({}),
        policyTypes: z.array(z.enum(['Ingress', 'Egress'])).optional(),
        ingress: z.array(z.object({ from: z.array(peer).optional(), ports: z.array(policyPort).optional() }).strict()).optional(),
        egress: z.array(z.object({ to: z.array(peer).optional(), ports: z.array(policyPort).optional() }).strict()).optional(),
      })
      .strict(),
  })
  .strict();

export const inventorySchema = z
  .object({
    nodes: z.array(nodeSchema).default([]),
    pods: z.array(podSchema).default([]),
    services: z.array(serviceSchema).default([]),
    namespaces: z.array(namespaceSchema).default([]),
    networkPolicies: z.array(networkPolicySchema).default([]),
  })
  .strict();

export type Inventory = z.infer<typeof inventorySchema>;
export type InventoryNode = z.infer<typeof nodeSchema>;
export type InventoryPod = z.infer<typeof podSchema>;
export type InventoryService = z.infer<typeof serviceSchema>;
export type InventoryNetworkPolicy = z.infer<typeof networkPolicySchema>;
