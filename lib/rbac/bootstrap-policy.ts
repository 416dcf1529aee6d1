/**
 * The RBAC objects of a new cluster, as kube-apiserver 1.33 creates and reconciles them on
 * start (its bootstrap policy: the facts of plugin/pkg/auth/authorizer/rbac/bootstrappolicy's
 * testdata), in this project's compact form, plus one binding of the project's own (see
 * PROJECT_CLUSTER_ROLE_BINDINGS). Every object carries kube's label
 * `kubernetes.io/bootstrapping: rbac-defaults` and annotation
 * `rbac.authorization.kubernetes.io/autoupdate: "true"`.
 *
 * Compact form: R(verbs, apiGroups, resources, resourceNames?) and U(verbs, nonResourceURLs),
 * each list a comma-separated string ("" is the core group: ",events.k8s.io" is ["", "events.k8s.io"]).
 */
import type { KubeObject } from '../kube.ts';
import { AUTO_UPDATE_ANNOTATION } from './reconcile.ts';

const GROUP = 'rbac.authorization.k8s.io';
const API_VERSION = `${GROUP}/v1`;
/** The label kube's bootstrap objects carry. */
export const BOOTSTRAPPING_LABEL = 'kubernetes.io/bootstrapping';

type Rule = Record<string, string[]>;

function list(s: string): string[] {
  return s.split(',');
}

/** A resource rule. */
function R(verbs: string, apiGroups: string, resources: string, resourceNames?: string): Rule {
  const rule: Rule = { apiGroups: list(apiGroups) };
  if (resourceNames !== undefined) rule.resourceNames = list(resourceNames);
  rule.resources = list(resources);
  rule.verbs = list(verbs);
  return rule;
}

/** A non-resource rule. */
function U(verbs: string, urls: string): Rule {
  return { nonResourceURLs: list(urls), verbs: list(verbs) };
}

const GLW = 'get,list,watch';
const WRITE = 'create,delete,deletecollection,patch,update';
const ALL_RW = 'create,delete,deletecollection,get,list,patch,update,watch';
/** Events, in both groups: the rule every controller has. */
const EVENTS = R('create,patch,update', ',events.k8s.io', 'events');

/** A ClusterRole: its rules, or aggregation selectors (matchLabels "key: true"), and extra labels. */
interface RoleSpec {
  rules?: Rule[];
  aggregate?: string;
  labels?: string[];
}

const AGG = 'rbac.authorization.k8s.io/aggregate-to-';

const CLUSTER_ROLES: Record<string, RoleSpec> = {
  admin: { aggregate: `${AGG}admin` },
  'cluster-admin': { rules: [R('*', '*', '*'), U('*', '*')] },
  edit: { aggregate: `${AGG}edit`, labels: [`${AGG}admin`] },
  'system:aggregate-to-admin': {
    labels: [`${AGG}admin`],
    rules: [R('create', 'authorization.k8s.io', 'localsubjectaccessreviews'), R(ALL_RW, GROUP, 'rolebindings,roles')],
  },
  'system:aggregate-to-edit': {
    labels: [`${AGG}edit`],
    rules: [
      R(GLW, '', 'pods/attach,pods/exec,pods/portforward,pods/proxy,secrets,services/proxy'),
      R('impersonate', '', 'serviceaccounts'),
      R(WRITE, '', 'pods,pods/attach,pods/exec,pods/portforward,pods/proxy'),
      R('create', '', 'pods/eviction'),
      R(WRITE, '', 'configmaps,events,persistentvolumeclaims,replicationcontrollers,replicationcontrollers/scale,secrets,serviceaccounts,services,services/proxy'),
      R('create', '', 'serviceaccounts/token'),
      R(WRITE, 'apps', 'daemonsets,deployments,deployments/rollback,deployments/scale,replicasets,replicasets/scale,statefulsets,statefulsets/scale'),
      R(WRITE, 'autoscaling', 'horizontalpodautoscalers'),
      R(WRITE, 'batch', 'cronjobs,jobs'),
      R(WRITE, 'extensions', 'daemonsets,deployments,deployments/rollback,deployments/scale,ingresses,networkpolicies,replicasets,replicasets/scale,replicationcontrollers/scale'),
      R(WRITE, 'policy', 'poddisruptionbudgets'),
      R(WRITE, 'networking.k8s.io', 'ingresses,networkpolicies'),
      R(ALL_RW, 'coordination.k8s.io', 'leases'),
    ],
  },
  'system:aggregate-to-view': {
    labels: [`${AGG}view`],
    rules: [
      R(GLW, '', 'configmaps,endpoints,persistentvolumeclaims,persistentvolumeclaims/status,pods,replicationcontrollers,replicationcontrollers/scale,serviceaccounts,services,services/status'),
      R(GLW, '', 'bindings,events,limitranges,namespaces/status,pods/log,pods/status,replicationcontrollers/status,resourcequotas,resourcequotas/status'),
      R(GLW, '', 'namespaces'),
      R(GLW, 'discovery.k8s.io', 'endpointslices'),
      R(GLW, 'apps', 'controllerrevisions,daemonsets,daemonsets/status,deployments,deployments/scale,deployments/status,replicasets,replicasets/scale,replicasets/status,statefulsets,statefulsets/scale,statefulsets/status'),
      R(GLW, 'autoscaling', 'horizontalpodautoscalers,horizontalpodautoscalers/status'),
      R(GLW, 'batch', 'cronjobs,cronjobs/status,jobs,jobs/status'),
      R(GLW, 'extensions', 'daemonsets,daemonsets/status,deployments,deployments/scale,deployments/status,ingresses,ingresses/status,networkpolicies,replicasets,replicasets/scale,replicasets/status,replicationcontrollers/scale'),
      R(GLW, 'policy', 'poddisruptionbudgets,poddisruptionbudgets/status'),
      R(GLW, 'networking.k8s.io', 'ingresses,ingresses/status,networkpolicies'),
    ],
  },
  'system:auth-delegator': { rules: [R('create', 'authentication.k8s.io', 'tokenreviews'), R('create', 'authorization.k8s.io', 'subjectaccessreviews')] },
  'system:basic-user': {
    rules: [R('create', 'authorization.k8s.io', 'selfsubjectaccessreviews,selfsubjectrulesreviews'), R('create', 'authentication.k8s.io', 'selfsubjectreviews')],
  },
  'system:certificates.k8s.io:certificatesigningrequests:nodeclient': { rules: [R('create', 'certificates.k8s.io', 'certificatesigningrequests/nodeclient')] },
  'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient': { rules: [R('create', 'certificates.k8s.io', 'certificatesigningrequests/selfnodeclient')] },
  'system:certificates.k8s.io:kube-apiserver-client-approver': { rules: [R('approve', 'certificates.k8s.io', 'signers', 'kubernetes.io/kube-apiserver-client')] },
  'system:certificates.k8s.io:kube-apiserver-client-kubelet-approver': { rules: [R('approve', 'certificates.k8s.io', 'signers', 'kubernetes.io/kube-apiserver-client-kubelet')] },
  'system:certificates.k8s.io:kubelet-serving-approver': { rules: [R('approve', 'certificates.k8s.io', 'signers', 'kubernetes.io/kubelet-serving')] },
  'system:certificates.k8s.io:legacy-unknown-approver': { rules: [R('approve', 'certificates.k8s.io', 'signers', 'kubernetes.io/legacy-unknown')] },
  'system:discovery': { rules: [U('get', '/api,/api/*,/apis,/apis/*,/healthz,/livez,/openapi,/openapi/*,/readyz,/version,/version/')] },
  'system:heapster': { rules: [R(GLW, '', 'events,namespaces,nodes,pods'), R(GLW, 'extensions', 'deployments')] },
  'system:kube-aggregator': { rules: [R(GLW, '', 'endpoints,services')] },
  'system:kube-controller-manager': {
    rules: [
      EVENTS,
      R('create', 'coordination.k8s.io', 'leases'),
      R('get,update', 'coordination.k8s.io', 'leases', 'kube-controller-manager'),
      R('create', '', 'secrets,serviceaccounts'),
      R('delete', '', 'secrets'),
      R('get', '', 'configmaps,namespaces,secrets,serviceaccounts'),
      R('update', '', 'secrets,serviceaccounts'),
      R('create', 'authentication.k8s.io', 'tokenreviews'),
      R('create', 'authorization.k8s.io', 'subjectaccessreviews'),
      R('list,watch', '*', '*'),
      R('create', '', 'serviceaccounts/token'),
    ],
  },
  'system:kube-dns': { rules: [R('list,watch', '', 'endpoints,services')] },
  'system:kube-scheduler': {
    rules: [
      EVENTS,
      R('create', 'coordination.k8s.io', 'leases'),
      R('get,update', 'coordination.k8s.io', 'leases', 'kube-scheduler'),
      R(GLW, '', 'nodes'),
      R('delete,get,list,watch', '', 'pods'),
      R('create', '', 'bindings,pods/binding'),
      R('patch,update', '', 'pods/status'),
      R(GLW, '', 'replicationcontrollers,services'),
      R(GLW, 'apps,extensions', 'replicasets'),
      R(GLW, 'apps', 'statefulsets'),
      R(GLW, 'policy', 'poddisruptionbudgets'),
      R(GLW, '', 'persistentvolumeclaims,persistentvolumes'),
      R('create', 'authentication.k8s.io', 'tokenreviews'),
      R('create', 'authorization.k8s.io', 'subjectaccessreviews'),
      R(GLW, 'storage.k8s.io', 'csinodes'),
      R(GLW, '', 'namespaces'),
      R(GLW, 'storage.k8s.io', 'csidrivers'),
      R(GLW, 'storage.k8s.io', 'csistoragecapacities'),
    ],
  },
  'system:kubelet-api-admin': { rules: [R(GLW, '', 'nodes'), R('proxy', '', 'nodes'), R('*', '', 'nodes/log,nodes/metrics,nodes/proxy,nodes/stats')] },
  'system:monitoring': { rules: [U('get', '/healthz,/healthz/*,/livez,/livez/*,/metrics,/metrics/slis,/readyz,/readyz/*')] },
  'system:node': {
    rules: [
      R('create', 'authentication.k8s.io', 'tokenreviews'),
      R('create', 'authorization.k8s.io', 'localsubjectaccessreviews,subjectaccessreviews'),
      R(GLW, '', 'services'),
      R('create,get,list,watch', '', 'nodes'),
      R('patch,update', '', 'nodes/status'),
      R('patch,update', '', 'nodes'),
      R('create,patch,update', '', 'events'),
      R(GLW, '', 'pods'),
      R('create,delete', '', 'pods'),
      R('patch,update', '', 'pods/status'),
      R('create', '', 'pods/eviction'),
      R(GLW, '', 'configmaps,secrets'),
      R('get', '', 'persistentvolumeclaims,persistentvolumes'),
      R('get', '', 'endpoints'),
      R('create,get,list,watch', 'certificates.k8s.io', 'certificatesigningrequests'),
      R('create,delete,get,patch,update', 'coordination.k8s.io', 'leases'),
      R('get', 'storage.k8s.io', 'volumeattachments'),
      R('create', '', 'serviceaccounts/token'),
      R('get,patch,update', '', 'persistentvolumeclaims/status'),
      R(GLW, 'storage.k8s.io', 'csidrivers'),
      R('create,delete,get,patch,update', 'storage.k8s.io', 'csinodes'),
      R(GLW, 'node.k8s.io', 'runtimeclasses'),
    ],
  },
  'system:node-bootstrapper': { rules: [R('create,get,list,watch', 'certificates.k8s.io', 'certificatesigningrequests')] },
  'system:node-problem-detector': { rules: [R('get', '', 'nodes'), R('patch', '', 'nodes/status'), EVENTS] },
  'system:node-proxier': { rules: [R('list,watch', '', 'endpoints,services'), R(GLW, '', 'nodes'), EVENTS, R('list,watch', 'discovery.k8s.io', 'endpointslices')] },
  'system:persistent-volume-provisioner': {
    rules: [
      R('create,delete,get,list,watch', '', 'persistentvolumes'),
      R('get,list,update,watch', '', 'persistentvolumeclaims'),
      R(GLW, 'storage.k8s.io', 'storageclasses'),
      R('watch', '', 'events'),
      EVENTS,
    ],
  },
  'system:public-info-viewer': { rules: [U('get', '/healthz,/livez,/readyz,/version,/version/')] },
  'system:service-account-issuer-discovery': { rules: [U('get', '/.well-known/openid-configuration,/.well-known/openid-configuration/,/openid/v1/jwks,/openid/v1/jwks/')] },
  'system:volume-scheduler': {
    rules: [R('get,list,patch,update,watch', '', 'persistentvolumes'), R(GLW, 'storage.k8s.io', 'storageclasses'), R('get,list,patch,update,watch', '', 'persistentvolumeclaims')],
  },
  view: { aggregate: `${AGG}view`, labels: [`${AGG}edit`] },
};

/** The controllers' ClusterRoles (system:controller:<name>), each bound to ServiceAccount kube-system/<name>. */
const CONTROLLER_ROLES: Record<string, Rule[]> = {
  'attachdetach-controller': [
    R('list,watch', '', 'persistentvolumeclaims,persistentvolumes'),
    R(GLW, '', 'nodes'),
    R('patch,update', '', 'nodes/status'),
    R('list,watch', '', 'pods'),
    EVENTS,
    R('create,delete,get,list,watch', 'storage.k8s.io', 'volumeattachments'),
    R(GLW, 'storage.k8s.io', 'csidrivers'),
    R(GLW, 'storage.k8s.io', 'csinodes'),
  ],
  'certificate-controller': [
    R('delete,get,list,watch', 'certificates.k8s.io', 'certificatesigningrequests'),
    R('update', 'certificates.k8s.io', 'certificatesigningrequests/approval,certificatesigningrequests/status'),
    R('approve', 'certificates.k8s.io', 'signers', 'kubernetes.io/kube-apiserver-client-kubelet'),
    R('sign', 'certificates.k8s.io', 'signers', 'kubernetes.io/kube-apiserver-client,kubernetes.io/kube-apiserver-client-kubelet,kubernetes.io/kubelet-serving,kubernetes.io/legacy-unknown'),
    R('create', 'authorization.k8s.io', 'subjectaccessreviews'),
    EVENTS,
  ],
  'clusterrole-aggregation-controller': [R('escalate,get,list,patch,update,watch', GROUP, 'clusterroles')],
  'cronjob-controller': [
    R('get,list,update,watch', 'batch', 'cronjobs'),
    R('create,delete,get,list,patch,update,watch', 'batch', 'jobs'),
    R('update', 'batch', 'cronjobs/status'),
    R('update', 'batch', 'cronjobs/finalizers'),
    R('delete,list,watch', '', 'pods'),
    EVENTS,
  ],
  'daemon-set-controller': [
    R(GLW, 'apps,extensions', 'daemonsets'),
    R('update', 'apps,extensions', 'daemonsets/status'),
    R('update', 'apps,extensions', 'daemonsets/finalizers'),
    R('list,watch', '', 'nodes'),
    R('create,delete,list,patch,watch', '', 'pods'),
    R('create', '', 'pods/binding'),
    R('create,delete,get,list,patch,update,watch', 'apps', 'controllerrevisions'),
    EVENTS,
  ],
  'deployment-controller': [
    R('get,list,update,watch', 'apps,extensions', 'deployments'),
    R('update', 'apps,extensions', 'deployments/status'),
    R('update', 'apps,extensions', 'deployments/finalizers'),
    R('create,delete,get,list,patch,update,watch', 'apps,extensions', 'replicasets'),
    R('get,list,update,watch', '', 'pods'),
    EVENTS,
  ],
  'device-taint-eviction-controller': [
    R('delete,get,list,watch', '', 'pods'),
    R('patch,update', '', 'pods/status'),
    R(GLW, 'resource.k8s.io', 'resourceclaims'),
    R(GLW, 'resource.k8s.io', 'resourceslices'),
    R(GLW, 'resource.k8s.io', 'deviceclasses'),
    EVENTS,
  ],
  'disruption-controller': [
    R(GLW, 'apps,extensions', 'deployments'),
    R(GLW, 'apps,extensions', 'replicasets'),
    R(GLW, '', 'replicationcontrollers'),
    R(GLW, 'policy', 'poddisruptionbudgets'),
    R(GLW, 'apps', 'statefulsets'),
    R('update', 'policy', 'poddisruptionbudgets/status'),
    R('patch,update', '', 'pods/status'),
    R('get', '*', '*/scale'),
    EVENTS,
  ],
  'endpoint-controller': [R(GLW, '', 'pods,services'), R('create,delete,get,list,update,watch', '', 'endpoints'), R('create', '', 'endpoints/restricted'), EVENTS],
  'endpointslice-controller': [
    R(GLW, '', 'nodes,pods,services'),
    R('update', '', 'services/finalizers'),
    R('create,delete,get,list,update,watch', 'discovery.k8s.io', 'endpointslices'),
    EVENTS,
  ],
  'endpointslicemirroring-controller': [
    R(GLW, '', 'endpoints,services'),
    R('update', '', 'services/finalizers'),
    R('update', '', 'endpoints/finalizers'),
    R('create,delete,get,list,update,watch', 'discovery.k8s.io', 'endpointslices'),
    EVENTS,
  ],
  'ephemeral-volume-controller': [R(GLW, '', 'pods'), R('update', '', 'pods/finalizers'), R('create,get,list,watch', '', 'persistentvolumeclaims'), EVENTS],
  'expand-controller': [R('get,list,patch,update,watch', '', 'persistentvolumes'), R('patch,update', '', 'persistentvolumeclaims/status'), R(GLW, '', 'persistentvolumeclaims'), EVENTS],
  'generic-garbage-collector': [R('delete,get,list,patch,update,watch', '*', '*'), EVENTS],
  'horizontal-pod-autoscaler': [
    R(GLW, 'autoscaling', 'horizontalpodautoscalers'),
    R('update', 'autoscaling', 'horizontalpodautoscalers/status'),
    R('get,update', '*', '*/scale'),
    R('list,watch', '', 'pods'),
    R('list,watch', 'metrics.k8s.io', 'pods'),
    R(GLW, 'custom.metrics.k8s.io', '*'),
    R(GLW, 'external.metrics.k8s.io', '*'),
    EVENTS,
  ],
  'job-controller': [
    R('get,list,patch,update,watch', 'batch', 'jobs'),
    R('update', 'batch', 'jobs/status'),
    R('update', 'batch', 'jobs/finalizers'),
    R('create,delete,list,patch,watch', '', 'pods'),
    EVENTS,
  ],
  'legacy-service-account-token-cleaner': [R('get', '', 'configmaps', 'kube-apiserver-legacy-service-account-token-tracking'), R('delete,patch', '', 'secrets')],
  'namespace-controller': [
    R('delete,get,list,watch', '', 'namespaces'),
    R('update', '', 'namespaces/finalize,namespaces/status'),
    R('delete,deletecollection,get,list,watch', '*', '*'),
  ],
  'node-controller': [
    R('delete,get,list,patch,update,watch', '', 'nodes'),
    R('patch,update', '', 'nodes/status'),
    R('patch,update', '', 'pods/status'),
    R('delete,get,list,watch', '', 'pods'),
    EVENTS,
  ],
  'persistent-volume-binder': [
    R('create,delete,get,list,update,watch', '', 'persistentvolumes'),
    R('update', '', 'persistentvolumes/status'),
    R('get,list,update,watch', '', 'persistentvolumeclaims'),
    R('update', '', 'persistentvolumeclaims/status'),
    R('create,delete,get,list,watch', '', 'pods'),
    R(GLW, 'storage.k8s.io', 'storageclasses'),
    R('list,watch', '', 'nodes'),
    EVENTS,
    R('watch', '', 'events'),
  ],
  'pod-garbage-collector': [R('delete,list,watch', '', 'pods'), R(GLW, '', 'nodes'), R('patch', '', 'pods/status')],
  'pv-protection-controller': [R('get,list,update,watch', '', 'persistentvolumes'), EVENTS],
  'pvc-protection-controller': [R('get,list,update,watch', '', 'persistentvolumeclaims'), R('update', '', 'persistentvolumeclaims/status'), R(GLW, '', 'pods'), EVENTS],
  'replicaset-controller': [
    R('get,list,update,watch', 'apps,extensions', 'replicasets'),
    R('update', 'apps,extensions', 'replicasets/status'),
    R('update', 'apps,extensions', 'replicasets/finalizers'),
    R('create,delete,list,patch,watch', '', 'pods'),
    EVENTS,
  ],
  'replication-controller': [
    R('get,list,update,watch', '', 'replicationcontrollers'),
    R('update', '', 'replicationcontrollers/status'),
    R('update', '', 'replicationcontrollers/finalizers'),
    R('create,delete,list,patch,watch', '', 'pods'),
    EVENTS,
  ],
  'resource-claim-controller': [
    R(GLW, '', 'pods'),
    R('update', '', 'pods/finalizers'),
    R('create,delete,get,list,watch', 'resource.k8s.io', 'resourceclaims'),
    R('patch,update', 'resource.k8s.io', 'resourceclaims,resourceclaims/status'),
    R('patch,update', '', 'pods/status'),
    EVENTS,
    R('patch,update', 'resource.k8s.io', 'resourceclaims/binding'),
  ],
  'resourcequota-controller': [R('list,watch', '*', '*'), R('update', '', 'resourcequotas/status'), EVENTS],
  'root-ca-cert-publisher': [R('create,update', '', 'configmaps'), EVENTS],
  'route-controller': [R('list,watch', '', 'nodes'), R('patch', '', 'nodes/status'), EVENTS],
  'selinux-warning-controller': [EVENTS, R(GLW, '', 'persistentvolumes'), R(GLW, '', 'persistentvolumeclaims'), R(GLW, '', 'pods'), R(GLW, 'storage.k8s.io', 'csidrivers')],
  'service-account-controller': [R('create', '', 'serviceaccounts'), EVENTS],
  'service-cidrs-controller': [
    R('get,list,patch,update,watch', 'networking.k8s.io', 'servicecidrs'),
    R('patch,update', 'networking.k8s.io', 'servicecidrs/finalizers'),
    R('patch,update', 'networking.k8s.io', 'servicecidrs/status'),
    R(GLW, 'networking.k8s.io', 'ipaddresses'),
    EVENTS,
  ],
  'service-controller': [R(GLW, '', 'services'), R('patch,update', '', 'services/status'), R('list,watch', '', 'nodes'), EVENTS],
  'statefulset-controller': [
    R('list,watch', '', 'pods'),
    R(GLW, 'apps', 'statefulsets'),
    R('update', 'apps', 'statefulsets/status'),
    R('update', 'apps', 'statefulsets/finalizers'),
    R('create,delete,get,patch,update', '', 'pods'),
    R('create,delete,get,list,patch,update,watch', 'apps', 'controllerrevisions'),
    R('create,get,list,watch', '', 'persistentvolumeclaims'),
    R('delete,update', '', 'persistentvolumeclaims'),
    R('update', '', 'pods/finalizers'),
    EVENTS,
  ],
  'ttl-after-finished-controller': [R('delete,get,list,watch', 'batch', 'jobs'), EVENTS],
  'ttl-controller': [R('list,patch,update,watch', '', 'nodes'), EVENTS],
  'validatingadmissionpolicy-status-controller': [
    R(GLW, 'admissionregistration.k8s.io', 'validatingadmissionpolicies'),
    R('get,patch,update', 'admissionregistration.k8s.io', 'validatingadmissionpolicies/status'),
    EVENTS,
  ],
  'volumeattributesclass-protection-controller': [
    R(GLW, '', 'persistentvolumeclaims'),
    R(GLW, '', 'persistentvolumes'),
    R('get,list,update,watch', 'storage.k8s.io', 'volumeattributesclasses'),
    EVENTS,
  ],
};

/** Subjects in compact form: "User:name", "Group:name", "ServiceAccount:namespace:name". */
type SubjectSpec = string;

const CLUSTER_ROLE_BINDINGS: Record<string, SubjectSpec[]> = {
  'cluster-admin': ['Group:system:masters'],
  'system:basic-user': ['Group:system:authenticated'],
  'system:discovery': ['Group:system:authenticated'],
  'system:kube-controller-manager': ['User:system:kube-controller-manager'],
  'system:kube-dns': ['ServiceAccount:kube-system:kube-dns'],
  'system:kube-scheduler': ['User:system:kube-scheduler'],
  'system:monitoring': ['Group:system:monitoring'],
  // Left without subjects by kube since the Node authorizer took over (the binding stays).
  'system:node': [],
  'system:node-proxier': ['User:system:kube-proxy'],
  'system:public-info-viewer': ['Group:system:authenticated', 'Group:system:unauthenticated'],
  'system:service-account-issuer-discovery': ['Group:system:serviceaccounts'],
  'system:volume-scheduler': ['User:system:kube-scheduler'],
};

/**
 * The project's own ClusterRoleBindings (not kube's). `service-account-issuer-discovery-public`
 * lets anonymous clients read the OIDC discovery documents (/.well-known/openid-configuration,
 * /openid/v1/jwks), the binding kube's documentation tells operators to add when the issuer's
 * documents are to be public; kube itself binds the role only to system:serviceaccounts.
 */
const PROJECT_CLUSTER_ROLE_BINDINGS: Record<string, { role: string; subjects: SubjectSpec[] }> = {
  'service-account-issuer-discovery-public': { role: 'system:service-account-issuer-discovery', subjects: ['Group:system:unauthenticated'] },
};

/** Roles in kube-system and kube-public. */
const NAMESPACE_ROLES: Record<string, Record<string, Rule[]>> = {
  'kube-public': {
    'system:controller:bootstrap-signer': [R(GLW, '', 'configmaps'), R('update', '', 'configmaps', 'cluster-info'), EVENTS],
  },
  'kube-system': {
    'extension-apiserver-authentication-reader': [R(GLW, '', 'configmaps', 'extension-apiserver-authentication')],
    'system::leader-locking-kube-controller-manager': [R('create,get,list,update,watch', 'coordination.k8s.io', 'leases'), R('create,get,list,update,watch', 'coordination.k8s.io', 'leasecandidates')],
    'system::leader-locking-kube-scheduler': [R('create,get,list,update,watch', 'coordination.k8s.io', 'leases'), R('create,get,list,update,watch', 'coordination.k8s.io', 'leasecandidates')],
    'system:controller:bootstrap-signer': [R(GLW, '', 'secrets')],
    'system:controller:cloud-provider': [R('create,get,list,watch', '', 'configmaps')],
    'system:controller:token-cleaner': [R('delete,get,list,watch', '', 'secrets'), EVENTS],
  },
};

/** RoleBindings in kube-system and kube-public: the Role bound, and the subjects. */
const NAMESPACE_ROLE_BINDINGS: Record<string, Record<string, { role: string; subjects: SubjectSpec[] }>> = {
  'kube-public': {
    'system:controller:bootstrap-signer': { role: 'system:controller:bootstrap-signer', subjects: ['ServiceAccount:kube-system:bootstrap-signer'] },
  },
  'kube-system': {
    'system::extension-apiserver-authentication-reader': {
      role: 'extension-apiserver-authentication-reader',
      subjects: ['User:system:kube-controller-manager', 'User:system:kube-scheduler'],
    },
    'system::leader-locking-kube-controller-manager': {
      role: 'system::leader-locking-kube-controller-manager',
      subjects: ['User:system:kube-controller-manager', 'ServiceAccount:kube-system:kube-controller-manager', 'ServiceAccount:kube-system:leader-election-controller'],
    },
    'system::leader-locking-kube-scheduler': { role: 'system::leader-locking-kube-scheduler', subjects: ['User:system:kube-scheduler', 'ServiceAccount:kube-system:kube-scheduler'] },
    'system:controller:bootstrap-signer': { role: 'system:controller:bootstrap-signer', subjects: ['ServiceAccount:kube-system:bootstrap-signer'] },
    'system:controller:cloud-provider': { role: 'system:controller:cloud-provider', subjects: ['ServiceAccount:kube-system:cloud-provider'] },
    'system:controller:token-cleaner': { role: 'system:controller:token-cleaner', subjects: ['ServiceAccount:kube-system:token-cleaner'] },
  },
};

function metadata(name: string, namespace: string | undefined, extraLabels: string[] = []): Record<string, unknown> {
  const labels: Record<string, string> = { [BOOTSTRAPPING_LABEL]: 'rbac-defaults' };
  for (const label of extraLabels) labels[label] = 'true';
  return { name, ...(namespace === undefined ? {} : { namespace }), labels, annotations: { [AUTO_UPDATE_ANNOTATION]: 'true' } };
}

function subject(spec: SubjectSpec): Record<string, string> {
  const [kind = '', ...rest] = spec.split(':');
  if (kind === 'ServiceAccount') {
    const [namespace = '', ...name] = rest;
    return { kind, name: name.join(':'), namespace };
  }
  return { apiGroup: GROUP, kind, name: rest.join(':') };
}

function clusterRole(name: string, spec: RoleSpec): KubeObject {
  const object: KubeObject = { apiVersion: API_VERSION, kind: 'ClusterRole', metadata: metadata(name, undefined, spec.labels) };
  if (spec.aggregate !== undefined) object.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [spec.aggregate]: 'true' } }] };
  object.rules = spec.rules ?? [];
  return object;
}

function binding(kind: 'ClusterRoleBinding' | 'RoleBinding', name: string, namespace: string | undefined, roleKind: string, role: string, subjects: SubjectSpec[]): KubeObject {
  const object: KubeObject = { apiVersion: API_VERSION, kind, metadata: metadata(name, namespace), roleRef: { apiGroup: GROUP, kind: roleKind, name: role } };
  if (subjects.length > 0) object.subjects = subjects.map(subject);
  return object;
}

/** The bootstrap policy as objects, in the order kube reconciles it: cluster roles, cluster role bindings, roles, role bindings. */
export interface BootstrapPolicy {
  clusterRoles: KubeObject[];
  clusterRoleBindings: KubeObject[];
  roles: KubeObject[];
  roleBindings: KubeObject[];
}

/** A fresh copy of the bootstrap policy (the caller may change it). */
export function bootstrapPolicy(): BootstrapPolicy {
  const controllerNames = Object.keys(CONTROLLER_ROLES);
  return {
    clusterRoles: [
      ...Object.entries(CLUSTER_ROLES).map(([name, spec]) => clusterRole(name, spec)),
      ...Object.entries(CONTROLLER_ROLES).map(([name, rules]) => clusterRole(`system:controller:${name}`, { rules })),
    ].map((o) => structuredClone(o)),
    clusterRoleBindings: [
      ...Object.entries(CLUSTER_ROLE_BINDINGS).map(([name, subjects]) => binding('ClusterRoleBinding', name, undefined, 'ClusterRole', name, subjects)),
      ...controllerNames.map((name) => binding('ClusterRoleBinding', `system:controller:${name}`, undefined, 'ClusterRole', `system:controller:${name}`, [`ServiceAccount:kube-system:${name}`])),
      ...Object.entries(PROJECT_CLUSTER_ROLE_BINDINGS).map(([name, b]) => binding('ClusterRoleBinding', name, undefined, 'ClusterRole', b.role, b.subjects)),
    ],
    roles: Object.entries(NAMESPACE_ROLES).flatMap(([namespace, roles]) =>
      Object.entries(roles).map(([name, rules]): KubeObject => ({ apiVersion: API_VERSION, kind: 'Role', metadata: metadata(name, namespace), rules: structuredClone(rules) })),
    ),
    roleBindings: Object.entries(NAMESPACE_ROLE_BINDINGS).flatMap(([namespace, bindings]) =>
      Object.entries(bindings).map(([name, b]) => binding('RoleBinding', name, namespace, 'Role', b.role, b.subjects)),
    ),
  };
}

/** The names of the project's own bootstrap ClusterRoleBindings (not kube's). */
export const PROJECT_BINDING_NAMES: readonly string[] = Object.keys(PROJECT_CLUSTER_ROLE_BINDINGS);
