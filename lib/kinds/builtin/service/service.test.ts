/**
 * Service through the pipeline as kube-apiserver serves it: the defaulted object a create
 * answers, the exact 422 causes of invalid objects (kube's types, paths and words), updates as
 * kube's storage prepares them, and printService's cells. Over the in-process pipeline (the real
 * admission chain, the generated schemas) on the memory backend.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StatusCause } from '../../../errors.ts';
import { rfc3339, type KubeObject } from '../../../kube.ts';
import { builtinRegistry } from '../../index.ts';
import { rowsFor, columnDefinitions } from '../../printing.ts';
import { MemoryStorage } from '../../../../services/storage/backends/memory.ts';
import type { Target } from '../../../../services/gateway/core/pipeline.ts';
import { inProcessPipeline, refusal } from '../../../../test/support/pipeline.ts';
import { SERVICE } from './service.ts';
import { parseIP } from './ip.ts';

const admin = { username: 'admin', uid: '1', groups: ['system:masters'] };

async function setup() {
  const registry = builtinRegistry();
  const storage = new MemoryStorage();
  const { pipeline } = await inProcessPipeline(storage, registry);
  const info = registry.get('', 'v1', 'services');
  assert.ok(info !== undefined);
  const services: Target = { info, namespace: 'default', name: '' };
  const create = (body: unknown) => pipeline.create(admin, services, body as KubeObject);
  return { storage, pipeline, services, create };
}

function service(name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec, ...extra };
}

/** Whether `ip` is a usable address of kube's default service range 10.96.0.0/12. */
function inDefaultRange(ip: unknown): boolean {
  const parsed = typeof ip === 'string' ? parseIP(ip) : undefined;
  return parsed !== undefined && parsed.family === 'IPv4' && parsed.value >> 20n === 0x0a6n && (parsed.value & 0xfffffn) !== 0n && (parsed.value & 0xfffffn) !== 0xfffffn;
}

/** The spec with allocated values checked and replaced by markers, so a table can name them. */
function withMarkers(spec: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(spec);
  if (typeof out.clusterIP === 'string' && out.clusterIP !== 'None') {
    assert.ok(inDefaultRange(out.clusterIP), `clusterIP ${String(out.clusterIP)}`);
    assert.deepEqual(out.clusterIPs, [out.clusterIP]);
    out.clusterIP = '<allocated>';
    out.clusterIPs = ['<allocated>'];
  }
  if (Array.isArray(out.ports)) {
    for (const port of out.ports as Record<string, unknown>[]) {
      if (port.nodePort === undefined) continue;
      assert.ok(typeof port.nodePort === 'number' && port.nodePort >= 30000 && port.nodePort <= 32767, `nodePort ${String(port.nodePort)}`);
      port.nodePort = '<allocated>';
    }
  }
  if (typeof out.healthCheckNodePort === 'number') {
    assert.ok(out.healthCheckNodePort >= 30000 && out.healthCheckNodePort <= 32767);
    out.healthCheckNodePort = '<allocated>';
  }
  return out;
}

// SetDefaults_Service and what kube's storage fills on create, per input spec.
const DEFAULTS: { name: string; spec: Record<string, unknown>; expect: Record<string, unknown> }[] = [
  {
    name: 'a bare ClusterIP service: type, affinity, protocol, targetPort, traffic policy, families, a cluster IP',
    spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    expect: {
      selector: { app: 'web' },
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      sessionAffinity: 'None',
      type: 'ClusterIP',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
      clusterIP: '<allocated>',
      clusterIPs: ['<allocated>'],
    },
  },
  {
    name: 'a named targetPort and UDP are kept',
    spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' }] },
    expect: {
      ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' }],
      sessionAffinity: 'None',
      type: 'ClusterIP',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
      clusterIP: '<allocated>',
      clusterIPs: ['<allocated>'],
    },
  },
  {
    name: 'NodePort: externalTrafficPolicy Cluster and a node port per port',
    spec: { type: 'NodePort', ports: [{ port: 80, targetPort: 8080 }] },
    expect: {
      type: 'NodePort',
      ports: [{ port: 80, targetPort: 8080, protocol: 'TCP', nodePort: '<allocated>' }],
      sessionAffinity: 'None',
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
      clusterIP: '<allocated>',
      clusterIPs: ['<allocated>'],
    },
  },
  {
    name: 'LoadBalancer: allocateLoadBalancerNodePorts true, node ports',
    spec: { type: 'LoadBalancer', ports: [{ port: 443 }] },
    expect: {
      type: 'LoadBalancer',
      ports: [{ port: 443, protocol: 'TCP', targetPort: 443, nodePort: '<allocated>' }],
      sessionAffinity: 'None',
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      allocateLoadBalancerNodePorts: true,
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
      clusterIP: '<allocated>',
      clusterIPs: ['<allocated>'],
    },
  },
  {
    name: 'LoadBalancer without node ports, externalTrafficPolicy Local: a health check node port only',
    spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, externalTrafficPolicy: 'Local', ports: [{ port: 443 }] },
    expect: {
      type: 'LoadBalancer',
      allocateLoadBalancerNodePorts: false,
      externalTrafficPolicy: 'Local',
      ports: [{ port: 443, protocol: 'TCP', targetPort: 443 }],
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      healthCheckNodePort: '<allocated>',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
      clusterIP: '<allocated>',
      clusterIPs: ['<allocated>'],
    },
  },
  {
    name: 'ClientIP affinity: a timeout of 10800 s',
    spec: { sessionAffinity: 'ClientIP', ports: [{ port: 80 }] },
    expect: {
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      type: 'ClusterIP',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
      clusterIP: '<allocated>',
      clusterIPs: ['<allocated>'],
    },
  },
  {
    name: 'None affinity: a sessionAffinityConfig is dropped',
    spec: { sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 80 }] },
    expect: {
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      sessionAffinity: 'None',
      type: 'ClusterIP',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
      clusterIP: '<allocated>',
      clusterIPs: ['<allocated>'],
    },
  },
  {
    name: 'ClusterIP with external IPs is externally accessible: externalTrafficPolicy Cluster',
    spec: { externalIPs: ['192.0.2.10'], ports: [{ port: 80 }] },
    expect: {
      externalIPs: ['192.0.2.10'],
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      sessionAffinity: 'None',
      type: 'ClusterIP',
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
      clusterIP: '<allocated>',
      clusterIPs: ['<allocated>'],
    },
  },
  {
    name: 'ExternalName: no cluster IP, families or internal traffic policy',
    spec: { type: 'ExternalName', externalName: 'db.example.com' },
    expect: { type: 'ExternalName', externalName: 'db.example.com', sessionAffinity: 'None' },
  },
  {
    name: 'headless with a selector: SingleStack, the cluster family',
    spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] },
    expect: {
      clusterIP: 'None',
      clusterIPs: ['None'],
      selector: { app: 'db' },
      ports: [{ port: 5432, protocol: 'TCP', targetPort: 5432 }],
      sessionAffinity: 'None',
      type: 'ClusterIP',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
    },
  },
  {
    name: 'headless without selector (and without ports): RequireDualStack, both families',
    spec: { clusterIP: 'None' },
    expect: {
      clusterIP: 'None',
      clusterIPs: ['None'],
      sessionAffinity: 'None',
      type: 'ClusterIP',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'RequireDualStack',
      ipFamilies: ['IPv4', 'IPv6'],
    },
  },
];

describe('Service defaults', () => {
  for (const c of DEFAULTS) {
    test(c.name, async () => {
      const { create } = await setup();
      const created = await create(service('svc', c.spec));
      assert.deepEqual(withMarkers(created.spec as Record<string, unknown>), c.expect);
      assert.deepEqual(created.status, { loadBalancer: {} });
    });
  }

  test('a status sent on create is dropped (PrepareForCreate)', async () => {
    const { create } = await setup();
    const created = await create(service('svc', { ports: [{ port: 80 }] }, { status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } }));
    assert.deepEqual(created.status, { loadBalancer: {} });
  });

  test('a requested cluster IP is kept, alone or in clusterIPs', async () => {
    const { create } = await setup();
    const a = await create(service('a', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] }));
    assert.equal((a.spec as Record<string, unknown>).clusterIP, '10.96.0.10');
    assert.deepEqual((a.spec as Record<string, unknown>).clusterIPs, ['10.96.0.10']);
    const b = await create(service('b', { clusterIP: '10.96.0.11', clusterIPs: ['10.96.0.11'], ports: [{ port: 80 }] }));
    assert.deepEqual((b.spec as Record<string, unknown>).clusterIPs, ['10.96.0.11']);
  });
});

/** The causes of the 422 a create (or update) is refused with: reason, field, message. */
async function causesOf(promise: Promise<unknown>): Promise<StatusCause[]> {
  const err = await refusal(promise, 'Invalid');
  assert.equal(err.code, 422);
  return err.details?.causes ?? [];
}

const cause = (reason: string, field: string, message: string): StatusCause => ({ reason, message, field });

// Invalid Services and kube's exact causes.
const INVALID: { name: string; object: KubeObject; causes: StatusCause[] }[] = [
  {
    name: 'no ports',
    object: service('svc', { selector: { app: 'a' } }),
    causes: [cause('FieldValueRequired', 'spec.ports', 'Required value')],
  },
  {
    name: 'several ports need names',
    object: service('svc', { ports: [{ port: 80 }, { port: 443 }] }),
    causes: [cause('FieldValueRequired', 'spec.ports[0].name', 'Required value'), cause('FieldValueRequired', 'spec.ports[1].name', 'Required value')],
  },
  {
    name: 'port names are unique',
    object: service('svc', { ports: [{ name: 'web', port: 80 }, { name: 'web', port: 443 }] }),
    causes: [cause('FieldValueDuplicate', 'spec.ports[1].name', 'Duplicate value: "web"')],
  },
  {
    name: 'a port name is a DNS-1123 label',
    object: service('svc', { ports: [{ name: 'Web', port: 80 }] }),
    causes: [
      cause(
        'FieldValueInvalid',
        'spec.ports[0].name',
        'Invalid value: "Web": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character (e.g. \'my-name\',  or \'123-abc\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?\')',
      ),
    ],
  },
  {
    name: 'ports and target ports are 1-65535',
    object: service('svc', { ports: [{ port: 70000, targetPort: 0 }] }),
    causes: [
      cause('FieldValueInvalid', 'spec.ports[0].port', 'Invalid value: 70000: must be between 1 and 65535, inclusive'),
      cause('FieldValueInvalid', 'spec.ports[0].targetPort', 'Invalid value: 70000: must be between 1 and 65535, inclusive'),
    ],
  },
  {
    name: 'a named target port is an IANA service name',
    object: service('svc', { ports: [{ port: 80, targetPort: 'http_port' }] }),
    causes: [cause('FieldValueInvalid', 'spec.ports[0].targetPort', 'Invalid value: "http_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)')],
  },
  {
    name: 'protocol enum',
    object: service('svc', { ports: [{ port: 80, protocol: 'HTTP' }] }),
    causes: [cause('FieldValueNotSupported', 'spec.ports[0].protocol', 'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"')],
  },
  {
    name: 'the same port and protocol twice',
    object: service('svc', { ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80, targetPort: 81 }] }),
    causes: [cause('FieldValueDuplicate', 'spec.ports[1]', 'Duplicate value: {"Name":"","Protocol":"TCP","AppProtocol":null,"Port":80,"TargetPort":0,"NodePort":0}')],
  },
  {
    name: 'type enum',
    object: service('svc', { type: 'Ingress', ports: [{ port: 80 }] }),
    causes: [cause('FieldValueNotSupported', 'spec.type', 'Unsupported value: "Ingress": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"')],
  },
  {
    name: 'a node port on a ClusterIP service',
    object: service('svc', { ports: [{ port: 80, nodePort: 30080 }] }),
    causes: [cause('FieldValueForbidden', 'spec.ports[0].nodePort', "Forbidden: may not be used when `type` is 'ClusterIP'")],
  },
  {
    name: 'the same node port twice',
    object: service('svc', { type: 'NodePort', ports: [{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 81, nodePort: 30080 }] }),
    causes: [cause('FieldValueDuplicate', 'spec.ports[1].nodePort', 'Duplicate value: 30080')],
  },
  {
    name: 'a cluster IP that is no address',
    object: service('svc', { clusterIP: '10.96.0.300', ports: [{ port: 80 }] }),
    causes: [cause('FieldValueInvalid', 'spec.clusterIPs[0]', 'Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')],
  },
  {
    name: 'a cluster IP with leading zeros',
    object: service('svc', { clusterIP: '10.96.0.010', ports: [{ port: 80 }] }),
    causes: [cause('FieldValueInvalid', 'spec.clusterIPs[0]', 'Invalid value: "10.96.0.010": must not have leading 0s')],
  },
  {
    name: 'clusterIPs without clusterIP',
    object: service('svc', { clusterIPs: ['10.96.0.10'], ports: [{ port: 80 }] }),
    causes: [cause('FieldValueInvalid', 'spec.clusterIPs', 'Invalid value: ["10.96.0.10"]: must be empty when `clusterIP` is not specified')],
  },
  {
    name: 'clusterIPs that do not start with clusterIP',
    object: service('svc', { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.11'], ports: [{ port: 80 }] }),
    causes: [cause('FieldValueInvalid', 'spec.clusterIPs', 'Invalid value: ["10.96.0.11"]: first value must match `clusterIP`')],
  },
  {
    name: 'a headless NodePort',
    object: service('svc', { type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] }),
    causes: [cause('FieldValueInvalid', 'spec.clusterIPs[0]', "Invalid value: \"None\": may not be set to 'None' for NodePort services")],
  },
  {
    name: 'ExternalName needs an external name',
    object: service('svc', { type: 'ExternalName' }),
    causes: [cause('FieldValueRequired', 'spec.externalName', 'Required value')],
  },
  {
    name: 'an external name is a DNS subdomain (a trailing dot allowed)',
    object: service('svc', { type: 'ExternalName', externalName: 'DB.example.com.' }),
    causes: [
      cause(
        'FieldValueInvalid',
        'spec.externalName',
        'Invalid value: "DB.example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')',
      ),
    ],
  },
  {
    name: 'an ExternalName with a cluster IP',
    object: service('svc', { type: 'ExternalName', externalName: 'db.example.com', clusterIP: '10.96.0.10' }),
    causes: [cause('FieldValueForbidden', 'spec.clusterIPs', 'Forbidden: may not be set for ExternalName services')],
  },
  {
    name: 'selector labels',
    object: service('svc', { selector: { app: 'web server' }, ports: [{ port: 80 }] }),
    causes: [
      cause(
        'FieldValueInvalid',
        'spec.selector',
        'Invalid value: "web server": a valid label must be an empty string or consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character (e.g. \'MyValue\',  or \'my_value\',  or \'12345\', regex used for validation is \'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\')',
      ),
    ],
  },
  {
    name: 'a ClientIP timeout over a day',
    object: service('svc', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } }, ports: [{ port: 80 }] }),
    causes: [cause('FieldValueInvalid', 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', 'Invalid value: 86401: must be greater than 0 and less than 86400')],
  },
  {
    name: 'externalTrafficPolicy on a service only the cluster reaches',
    object: service('svc', { externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }),
    causes: [cause('FieldValueInvalid', 'spec.externalTrafficPolicy', 'Invalid value: "Local": may only be set for externally-accessible services')],
  },
  {
    name: 'allocateLoadBalancerNodePorts on a NodePort',
    object: service('svc', { type: 'NodePort', allocateLoadBalancerNodePorts: true, ports: [{ port: 80 }] }),
    causes: [cause('FieldValueForbidden', 'spec.allocateLoadBalancerNodePorts', "Forbidden: may only be used when `type` is 'LoadBalancer'")],
  },
  {
    name: 'an external IP in the loopback range',
    object: service('svc', { externalIPs: ['127.0.0.2'], ports: [{ port: 80 }] }),
    causes: [cause('FieldValueInvalid', 'spec.externalIPs[0]', 'Invalid value: "127.0.0.2": may not be in the loopback range (127.0.0.0/8, ::1/128)')],
  },
  {
    name: 'a Service name is a DNS-1035 label',
    object: service('1st', { ports: [{ port: 80 }] }),
    causes: [
      cause(
        'FieldValueInvalid',
        'metadata.name',
        'Invalid value: "1st": a DNS-1035 label must consist of lower case alphanumeric characters or \'-\', start with an alphabetic character, and end with an alphanumeric character (e.g. \'my-name\',  or \'abc-123\', regex used for validation is \'[a-z]([-a-z0-9]*[a-z0-9])?\')',
      ),
    ],
  },
  // The allocator's refusals, after validation.
  {
    name: 'a cluster IP outside the service range',
    object: service('svc', { clusterIP: '192.168.0.10', ports: [{ port: 80 }] }),
    causes: [
      cause(
        'FieldValueInvalid',
        'spec.clusterIPs',
        'Invalid value: ["192.168.0.10"]: failed to allocate IP 192.168.0.10: the provided IP (192.168.0.10) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
      ),
    ],
  },
  {
    name: 'a node port outside the node port range',
    object: service('svc', { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] }),
    causes: [cause('FieldValueInvalid', 'spec.ports[0].nodePort', 'Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767')],
  },
  {
    name: 'a family the cluster does not have',
    object: service('svc', { ipFamilies: ['IPv6'], ports: [{ port: 80 }] }),
    causes: [cause('FieldValueInvalid', 'spec.ipFamilies[0]', 'Invalid value: "IPv6": not configured on this cluster')],
  },
  {
    name: 'dual stack required of a single-stack cluster',
    object: service('svc', { ipFamilyPolicy: 'RequireDualStack', ports: [{ port: 80 }] }),
    causes: [cause('FieldValueInvalid', 'spec.ipFamilyPolicy', 'Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services')],
  },
];

describe('Service validation: 422 with kube\'s causes', () => {
  for (const c of INVALID) {
    test(c.name, async () => {
      const { create, storage } = await setup();
      assert.deepEqual(await causesOf(create(c.object)), c.causes);
      // Nothing was claimed for a refused Service.
      const claims = await storage.list({ group: 'networking.k8s.io', resource: 'ipaddresses', namespace: '', name: '' });
      assert.deepEqual(claims.items, []);
    });
  }

  test('the message lists the causes as kube does', async () => {
    const { create } = await setup();
    const err = await refusal(create(service('svc', { ports: [{ port: 80 }, { port: 80 }] })), 'Invalid');
    assert.equal(
      err.message,
      'Service "svc" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value, spec.ports[1]: Duplicate value: {"Name":"","Protocol":"TCP","AppProtocol":null,"Port":80,"TargetPort":0,"NodePort":0}]',
    );
  });
});

describe('Service updates', () => {
  test('the same manifest applied again keeps the allocated cluster IP and node ports', async () => {
    const { pipeline, services, create } = await setup();
    const manifest = service('web', { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }] });
    const created = await create(structuredClone(manifest));
    const updated = await pipeline.update(admin, { ...services, name: 'web' }, structuredClone(manifest));
    assert.deepEqual(updated.spec, created.spec);
    assert.equal(updated.metadata?.generation, undefined, 'a Service has no generation, as in kube');
  });

  test('clusterIP is immutable: kube\'s words for a changed clusterIPs, or a clusterIP alone', async () => {
    const { pipeline, services, create } = await setup();
    await create(service('web', { clusterIP: '10.96.0.20', ports: [{ port: 80 }] }));
    const target = { ...services, name: 'web' };
    assert.deepEqual(await causesOf(pipeline.update(admin, target, service('web', { clusterIP: '10.96.0.21', clusterIPs: ['10.96.0.21'], ports: [{ port: 80 }] }))), [
      cause('FieldValueInvalid', 'spec.clusterIPs[0]', 'Invalid value: ["10.96.0.21"]: may not change once set'),
    ]);
    // A client that only knows clusterIP: clusterIPs follows it (normalizeClusterIPs), and is refused the same way.
    assert.deepEqual(await causesOf(pipeline.update(admin, target, service('web', { clusterIP: '10.96.0.21', ports: [{ port: 80 }] }))), [
      cause('FieldValueInvalid', 'spec.clusterIPs[0]', 'Invalid value: ["10.96.0.21"]: may not change once set'),
    ]);
    // Clearing it is keeping it (patchAllocatedValues).
    const kept = await pipeline.update(admin, target, service('web', { clusterIP: '', ports: [{ port: 80 }] }));
    assert.equal((kept.spec as Record<string, unknown>).clusterIP, '10.96.0.20');
  });

  test('a status written with the main resource is ignored (PrepareForUpdate keeps the stored one)', async () => {
    const { pipeline, services, create } = await setup();
    const created = await create(service('lb', { type: 'LoadBalancer', ports: [{ port: 80 }] }));
    const body = { ...structuredClone(created), status: { loadBalancer: { ingress: [{ ip: '192.0.2.7' }] } } };
    const updated = await pipeline.update(admin, { ...services, name: 'lb' }, body);
    assert.deepEqual(updated.status, { loadBalancer: {} });
  });

  test('the status strategy keeps the spec and checks the ingress', () => {
    const stored = service('lb', { type: 'LoadBalancer', ports: [{ port: 80 }] });
    const written = service('lb', { type: 'ClusterIP' }, { status: { loadBalancer: { ingress: [{ ip: '192.0.2.7', ipMode: 'VIP' }] } } });
    const prepared = SERVICE.statusStrategy?.prepareForUpdate?.(written, stored);
    assert.deepEqual(prepared?.spec, stored.spec);
    assert.deepEqual(SERVICE.statusStrategy?.validate?.(prepared as KubeObject, stored), []);
    const bad = service('lb', { type: 'LoadBalancer' }, { status: { loadBalancer: { ingress: [{ ip: '192.0.2.7' }, { hostname: '192.0.2.8' }] } } });
    assert.deepEqual(SERVICE.statusStrategy?.validate?.(bad, stored), [
      { type: 'FieldValueRequired', field: 'status.loadBalancer.ingress[0].ipMode', detail: 'must be specified when `ip` is set' },
      { type: 'FieldValueInvalid', field: 'status.loadBalancer.ingress[1].hostname', value: '192.0.2.8', detail: 'must be a DNS name, not an IP address' },
    ]);
  });
});

describe('Service field selectors', () => {
  test('spec.type and spec.clusterIP, as kube\'s field label conversion allows', async () => {
    const { pipeline, services, create } = await setup();
    await create(service('a', { type: 'NodePort', ports: [{ port: 80 }] }));
    await create(service('b', { clusterIP: '10.96.0.42', ports: [{ port: 80 }] }));
    const names = async (fieldSelector: string) => (await pipeline.list(admin, services, { fieldSelector })).items.map((o) => o.metadata?.name);
    assert.deepEqual(await names('spec.type=NodePort'), ['a']);
    assert.deepEqual(await names('spec.clusterIP=10.96.0.42'), ['b']);
    assert.deepEqual(await names('spec.type!=NodePort,metadata.name!=b'), []);
    await refusal(pipeline.list(admin, services, { fieldSelector: 'spec.selector=x' }), 'BadRequest');
  });
});

describe('The kubernetes Service', () => {
  test('the first address of the range, 443 to the API server\'s port; Endpoints only with an address pods could reach', () => {
    const cluster = { serviceClusterIPRange: 'fd00:10:96::/112', serviceNodePortRange: '30000-32767', apiServerPort: 6443, advertiseAddress: '' };
    const [svc, ...rest] = SERVICE.bootstrap?.(cluster) ?? [];
    assert.deepEqual(rest, []);
    assert.deepEqual(svc?.spec, {
      type: 'ClusterIP',
      clusterIP: 'fd00:10:96::1',
      clusterIPs: ['fd00:10:96::1'],
      sessionAffinity: 'None',
      ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }],
    });
    const objects = SERVICE.bootstrap?.({ ...cluster, serviceClusterIPRange: '10.96.0.0/12', advertiseAddress: '192.0.2.10' }) ?? [];
    assert.deepEqual(
      objects.map((o) => [o.kind, o.metadata?.namespace, o.metadata?.name]),
      [
        ['Service', 'default', 'kubernetes'],
        ['Endpoints', 'default', 'kubernetes'],
      ],
    );
    assert.deepEqual(objects[1]?.subsets, [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }]);
  });
});

describe('Service printing (printService)', () => {
  const NOW = new Date('2024-09-18T09:34:31Z');
  const created = rfc3339(new Date(NOW.getTime() - 3 * 3600_000));
  const cells = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => {
    const [row] = rowsFor(SERVICE.printer, [{ ...service('web', spec, { status }), metadata: { name: 'web', creationTimestamp: created } }], { now: NOW });
    return row?.cells;
  };

  test('columns: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE, SELECTOR for -o wide', () => {
    assert.deepEqual(
      columnDefinitions(SERVICE.printer).map((c) => [c.name, c.type, c.priority]),
      [
        ['Name', 'string', 0],
        ['Type', 'string', 0],
        ['Cluster-IP', 'string', 0],
        ['External-IP', 'string', 0],
        ['Port(s)', 'string', 0],
        ['Age', 'string', 0],
        ['Selector', 'string', 1],
      ],
    );
  });

  test('cells of typical services', () => {
    assert.deepEqual(cells({ type: 'ClusterIP', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, protocol: 'TCP' }], selector: { tier: 'web', app: 'shop' } }), [
      'web',
      'ClusterIP',
      '10.96.0.10',
      '<none>',
      '80/TCP',
      '3h',
      'app=shop,tier=web',
    ]);
    assert.deepEqual(
      cells({ type: 'NodePort', clusterIPs: ['10.96.0.11'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }),
      ['web', 'NodePort', '10.96.0.11', '<none>', '80:30080/TCP,53/UDP', '3h', '<none>'],
    );
    assert.deepEqual(cells({ type: 'LoadBalancer', clusterIPs: ['10.96.0.12'], ports: [] }), ['web', 'LoadBalancer', '10.96.0.12', '<pending>', '<none>', '3h', '<none>']);
    assert.deepEqual(
      cells({ type: 'LoadBalancer', clusterIPs: ['10.96.0.12'], externalIPs: ['192.0.2.9'] }, { loadBalancer: { ingress: [{ ip: '203.0.113.2' }, { hostname: 'lb.example.com' }, { ip: '203.0.113.1' }] } }),
      ['web', 'LoadBalancer', '10.96.0.12', '203.0.113.1,203.0.113.2,lb.example.com,192.0.2.9', '<none>', '3h', '<none>'],
    );
    assert.deepEqual(cells({ type: 'ExternalName', externalName: 'db.example.com' }), ['web', 'ExternalName', '<none>', 'db.example.com', '<none>', '3h', '<none>']);
    assert.deepEqual(cells({ type: 'ClusterIP', clusterIPs: ['None'], ports: [{ port: 5432, protocol: 'TCP' }] }), ['web', 'ClusterIP', 'None', '<none>', '5432/TCP', '3h', '<none>']);
  });

  test('a malformed object prints zero values', () => {
    const [row] = rowsFor(SERVICE.printer, [{ metadata: { name: 'x' }, spec: { type: 5, ports: 'many', clusterIPs: [1] } } as unknown as KubeObject], { now: NOW });
    assert.deepEqual(row?.cells, ['x', '', '<none>', '<unknown>', '<none>', '<unknown>', '<none>']);
  });
});
