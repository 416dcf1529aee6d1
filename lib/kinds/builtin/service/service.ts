/**
 * Service (core/v1, namespaced, `svc`, category `all`, with a `status` subresource): kube's
 * defaults, strategy and validation, cluster IP and node port allocation (allocator.ts), the
 * `kubernetes` Service every cluster has, selectable by spec.clusterIP and spec.type, printed as
 * kube's printService.
 */
import type { KubeObject } from '../../../kube.ts';
import { goField, goStruct } from '../../../object-meta.ts';
import { objectFields } from '../../../selectors.ts';
import type { ClusterConfig } from '../../allocation.ts';
import type { KindDefinition } from '../../types.ts';
import { STANDARD_VERBS } from '../common.ts';
import { ServiceAllocator, serviceNetwork } from './allocator.ts';
import { specOf, str } from './fields.ts';
import { indexedIP, parseIP } from './ip.ts';
import { SERVICE_PRINTER } from './printer.ts';
import { defaultService, prepareServiceForCreate, prepareServiceForUpdate } from './strategy.ts';
import { validateLoadBalancerStatus, validateService } from './validation.ts';

/** The Service every cluster has in `default`, fronting the API server. */
export const KUBERNETES_SERVICE = 'kubernetes';

/**
 * The `kubernetes` Service as kube's bootstrap controller writes it: the first address of the
 * service range, port 443 (https) to the API server's port, and (when the API server has an
 * address the cluster can reach) its Endpoints.
 */
function kubernetesObjects(cluster: ClusterConfig): KubeObject[] {
  const range = serviceNetwork(cluster).ips;
  const clusterIP = indexedIP(range, 1n);
  const labels = { component: 'apiserver', provider: 'kubernetes' };
  const objects: KubeObject[] = [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: KUBERNETES_SERVICE, namespace: 'default', labels },
      spec: {
        type: 'ClusterIP',
        clusterIP,
        clusterIPs: [clusterIP],
        sessionAffinity: 'None',
        ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: cluster.apiServerPort }],
      },
    },
  ];
  const address = parseIP(cluster.advertiseAddress);
  if (address !== undefined) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: KUBERNETES_SERVICE, namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip: cluster.advertiseAddress }], ports: [{ name: 'https', port: cluster.apiServerPort, protocol: 'TCP' }] }],
    });
  }
  return objects;
}

/** kube's field label conversion for Services: metadata.name, metadata.namespace, spec.clusterIP, spec.type. */
function serviceFields(object: KubeObject): Record<string, string> {
  const spec = specOf(object);
  return { ...objectFields(object), 'spec.clusterIP': str(spec, 'clusterIP'), 'spec.type': str(spec, 'type') };
}

export const SERVICE: KindDefinition = {
  source: 'builtin',
  group: '',
  version: 'v1',
  resource: 'services',
  singular: 'service',
  kind: 'Service',
  listKind: 'ServiceList',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  verbs: STANDARD_VERBS,
  subresources: ['status'],
  // ValidateServiceName: a DNS-1035 label (the name is a DNS name in the cluster).
  nameValidation: 'dns1035Label',
  selectableFields: {
    supported: ['metadata.name', 'metadata.namespace', 'spec.clusterIP', 'spec.type'],
    values: serviceFields,
    shape: goStruct('Service', 'v1.Service', {
      spec: goField.struct(goStruct('ServiceSpec', 'v1.ServiceSpec', { clusterIP: goField.string(), type: goField.string('v1.ServiceType') })),
    }),
  },
  strategy: {
    defaults: defaultService,
    prepareForCreate: prepareServiceForCreate,
    prepareForUpdate: prepareServiceForUpdate,
    validate: validateService,
    generation: 'none',
  },
  statusStrategy: {
    // A status write keeps the stored spec (serviceStatusStrategy.PrepareForUpdate).
    prepareForUpdate: (object, old) => ({ ...object, spec: old.spec }),
    validate: (object) => validateLoadBalancerStatus(object),
  },
  allocator: new ServiceAllocator(),
  bootstrap: kubernetesObjects,
  printer: SERVICE_PRINTER,
  schema: 'io.k8s.api.core.v1.Service',
};

/** Whether `text` is an address the `kubernetes` Service's endpoints may name (used to pick the gateway's advertise address). */
export function isAdvertisable(text: string): boolean {
  const ip = parseIP(text);
  if (ip === undefined) return false;
  if (ip.family === 'IPv4') return ip.value !== 0n && ip.value >> 24n !== 127n && ip.value >> 16n !== 0xa9fen;
  return ip.value !== 0n && ip.value !== 1n && ip.value >> 118n !== 0x3fan;
}
