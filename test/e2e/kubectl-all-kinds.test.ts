/**
 * End to end with real kubectl 1.27 and 1.33, default validation on (kubectl's Strict), over
 * every kind a platform team applies on day one: one multi-document manifest as a Helm chart
 * renders it (a namespace of an online shop, with its workloads, services, storage, policies,
 * RBAC and an event), applied once (every document created), again (unchanged, but where kube's
 * own apply also says configured) and diffed (nothing); `get` of each kind with kube's columns
 * and `-o wide` columns; `get all`; `api-resources` against what kube 1.32 lists; `explain`;
 * `autoscale` (autoscaling/v1 from kubectl 1.27, v2 from 1.33); and an event written through
 * core/v1 read through events.k8s.io/v1.
 *
 * Each kubectl version gets its own control plane, started for its suite and reused by its tests.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { kubectlVersionsPlane, type Kubectl } from '../support/kubectl.ts';

const VERSIONS = ['1.27', '1.33'] as const;

/** The chart: one YAML stream, in the order Helm installs kinds (namespace and cluster-wide objects first). */
const MANIFEST = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    app.kubernetes.io/part-of: shop
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: shop-critical
value: 100000
globalDefault: false
description: Checkout and payment pods.
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: shop-ssd
provisioner: ebs.csi.aws.com
parameters:
  type: gp3
reclaimPolicy: Retain
volumeBindingMode: WaitForFirstConsumer
allowVolumeExpansion: true
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: shop-nginx
spec:
  controller: k8s.io/ingress-nginx
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: shop-media
spec:
  capacity:
    storage: 10Gi
  accessModes:
    - ReadWriteMany
  persistentVolumeReclaimPolicy: Retain
  storageClassName: shop-nfs
  nfs:
    server: nfs.internal.example.com
    path: /exports/media
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: shop-node-reader
rules:
  - apiGroups: [""]
    resources: ["nodes"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: shop-node-reader
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: shop-node-reader
subjects:
  - kind: ServiceAccount
    name: web
    namespace: shop
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
  namespace: shop
  labels:
    app.kubernetes.io/name: web
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: shop
data:
  LOG_LEVEL: info
  nginx.conf: |
    server {
      listen 8080;
      location / { proxy_pass http://127.0.0.1:3000; }
    }
---
apiVersion: v1
kind: Secret
metadata:
  name: web-secrets
  namespace: shop
type: Opaque
stringData:
  DATABASE_URL: postgres://shop:changeme@shop-db:5432/shop
  SESSION_KEY: 0123456789abcdef
---
apiVersion: v1
kind: LimitRange
metadata:
  name: defaults
  namespace: shop
spec:
  limits:
    - type: Container
      default:
        cpu: 500m
        memory: 256Mi
      defaultRequest:
        cpu: 100m
        memory: 128Mi
---
apiVersion: v1
kind: ResourceQuota
metadata:
  name: compute
  namespace: shop
spec:
  hard:
    requests.cpu: "8"
    requests.memory: 16Gi
    limits.cpu: "16"
    limits.memory: 32Gi
    pods: "50"
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: media
  namespace: shop
spec:
  accessModes:
    - ReadWriteMany
  storageClassName: shop-nfs
  resources:
    requests:
      storage: 10Gi
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: web
  namespace: shop
rules:
  - apiGroups: [""]
    resources: ["configmaps", "secrets"]
    verbs: ["get", "list", "watch"]
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["get", "create", "update"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: web
  namespace: shop
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: web
subjects:
  - kind: ServiceAccount
    name: web
    namespace: shop
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  labels:
    app.kubernetes.io/name: web
spec:
  selector:
    app.kubernetes.io/name: web
  ports:
    - name: http
      port: 80
      targetPort: http
---
apiVersion: v1
kind: Service
metadata:
  name: web-public
  namespace: shop
spec:
  type: NodePort
  selector:
    app.kubernetes.io/name: web
  ports:
    - name: http
      port: 80
      targetPort: http
---
apiVersion: v1
kind: Service
metadata:
  name: payments
  namespace: shop
spec:
  ports:
    - name: https
      port: 443
---
apiVersion: v1
kind: Endpoints
metadata:
  name: payments
  namespace: shop
subsets:
  - addresses:
      - ip: 10.20.0.10
      - ip: 10.20.0.11
    ports:
      - name: https
        port: 443
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: payments-1
  namespace: shop
  labels:
    kubernetes.io/service-name: payments
    endpointslice.kubernetes.io/managed-by: shop.example.com
addressType: IPv4
ports:
  - name: https
    port: 443
endpoints:
  - addresses: ["10.20.0.10"]
    conditions:
      ready: true
  - addresses: ["10.20.0.11"]
    conditions:
      ready: true
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app.kubernetes.io/name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      serviceAccountName: web
      priorityClassName: shop-critical
      containers:
        - name: web
          image: registry.example.com/shop/web:1.4.2
          ports:
            - name: http
              containerPort: 8080
          envFrom:
            - configMapRef:
                name: web-config
            - secretRef:
                name: web-secrets
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              memory: 256Mi
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
          volumeMounts:
            - name: media
              mountPath: /srv/media
      volumes:
        - name: media
          persistentVolumeClaim:
            claimName: media
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: legacy-web
  namespace: shop
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: legacy-web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: legacy-web
    spec:
      containers:
        - name: web
          image: registry.example.com/shop/web:1.3.9
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: cache
  namespace: shop
spec:
  serviceName: cache
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: cache
  template:
    metadata:
      labels:
        app.kubernetes.io/name: cache
    spec:
      containers:
        - name: redis
          image: redis:7.2
          ports:
            - name: redis
              containerPort: 6379
          volumeMounts:
            - name: data
              mountPath: /data
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: ["ReadWriteOnce"]
        storageClassName: shop-ssd
        resources:
          requests:
            storage: 1Gi
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: log-agent
  namespace: shop
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: log-agent
  template:
    metadata:
      labels:
        app.kubernetes.io/name: log-agent
    spec:
      tolerations:
        - key: node-role.kubernetes.io/control-plane
          operator: Exists
          effect: NoSchedule
      containers:
        - name: fluent-bit
          image: fluent/fluent-bit:3.0
          volumeMounts:
            - name: varlog
              mountPath: /var/log
              readOnly: true
      volumes:
        - name: varlog
          hostPath:
            path: /var/log
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: shop
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: registry.example.com/shop/web:1.4.2
          command: ["bin/migrate"]
          envFrom:
            - secretRef:
                name: web-secrets
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly-report
  namespace: shop
spec:
  schedule: "0 3 * * *"
  timeZone: Europe/Berlin
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: registry.example.com/shop/report:2.0.1
              args: ["--since=24h"]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-smoke-test
  namespace: shop
  labels:
    app.kubernetes.io/name: web-smoke-test
spec:
  restartPolicy: Never
  containers:
    - name: curl
      image: curlimages/curl:8.7.1
      command: ["curl", "--fail", "http://web.shop.svc/healthz"]
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: web-leader
  namespace: shop
spec:
  holderIdentity: web-7d9f8-abcde
  leaseDurationSeconds: 15
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
spec:
  ingressClassName: shop-nginx
  tls:
    - hosts: ["shop.example.com"]
      secretName: shop-tls
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web
                port:
                  name: http
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: web
  policyTypes: ["Ingress"]
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: ingress-nginx
      ports:
        - port: 8080
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
  namespace: shop
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: web
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: shop
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
---
apiVersion: events.k8s.io/v1
kind: Event
metadata:
  name: web.release
  namespace: shop
eventTime: "2025-01-15T10:00:00.000000Z"
reportingController: shop.example.com/release
reportingInstance: release-runner-1
action: Deploy
reason: Released
note: Released web 1.4.2
type: Normal
regarding:
  apiVersion: apps/v1
  kind: Deployment
  namespace: shop
  name: web
`;

/** What `kubectl apply` prints for each document of MANIFEST, in order (without " created"). */
const DOCUMENTS = [
  'namespace/shop',
  'priorityclass.scheduling.k8s.io/shop-critical',
  'storageclass.storage.k8s.io/shop-ssd',
  'ingressclass.networking.k8s.io/shop-nginx',
  'persistentvolume/shop-media',
  'clusterrole.rbac.authorization.k8s.io/shop-node-reader',
  'clusterrolebinding.rbac.authorization.k8s.io/shop-node-reader',
  'serviceaccount/web',
  'configmap/web-config',
  'secret/web-secrets',
  'limitrange/defaults',
  'resourcequota/compute',
  'persistentvolumeclaim/media',
  'role.rbac.authorization.k8s.io/web',
  'rolebinding.rbac.authorization.k8s.io/web',
  'service/web',
  'service/web-public',
  'service/payments',
  'endpoints/payments',
  'endpointslice.discovery.k8s.io/payments-1',
  'deployment.apps/web',
  'replicaset.apps/legacy-web',
  'statefulset.apps/cache',
  'daemonset.apps/log-agent',
  'job.batch/migrate',
  'cronjob.batch/nightly-report',
  'pod/web-smoke-test',
  'lease.coordination.k8s.io/web-leader',
  'ingress.networking.k8s.io/web',
  'networkpolicy.networking.k8s.io/web',
  'poddisruptionbudget.policy/web',
  'horizontalpodautoscaler.autoscaling/web',
  'event.events.k8s.io/web.release',
];

/**
 * The documents that a second `kubectl apply` reports "configured" against kube-apiserver too:
 * kubectl's three-way patch is not empty for them although nothing changes (the server then
 * writes nothing, and the resourceVersion stays). Every other document is "unchanged".
 */
const CONFIGURED_AGAIN = new Map([
  // globalDefault is omitempty in kube's type: the live object leaves a false out, so the
  // manifest's explicit false is always sent.
  ['priorityclass.scheduling.k8s.io/shop-critical', 'an explicit false the live object omits'],
  // stringData is write-only: the server merges it into data, so the live object never shows
  // what the manifest says and kubectl sends it every time.
  ['secret/web-secrets', 'stringData is never in the live object'],
  // subsets is an atomic list and the server defaults inside it (ports[].protocol: TCP), so the
  // live list differs from the manifest's and kubectl replaces it whole.
  ['endpoints/payments', 'atomic subsets, defaulted protocol'],
  // The same for an EndpointSlice's atomic ports (protocol TCP).
  ['endpointslice.discovery.k8s.io/payments-1', 'atomic ports, defaulted protocol'],
  // volumeClaimTemplates is an atomic list of PersistentVolumeClaims that the server fills in
  // (apiVersion and kind, spec.volumeMode, status.phase).
  ['statefulset.apps/cache', 'atomic volumeClaimTemplates, defaulted claims'],
  // spec.ingress is an atomic list and its ports default to protocol TCP.
  ['networkpolicy.networking.k8s.io/web', 'atomic ingress rules, defaulted protocol'],
  // spec.selector has patchStrategy "replace": kubectl's patch always carries it whole.
  ['poddisruptionbudget.policy/web', 'selector patched by replace'],
]);

/**
 * A `kubectl get` table: each row's cells by column name. Columns are cut where the header's
 * names start (kubectl aligns every row to them), so empty cells stay empty.
 */
function table(stdout: string): { header: string[]; rows: Array<Record<string, string>> } {
  const [head = '', ...lines] = stdout.replace(/\n+$/, '').split('\n');
  const columns = [...head.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], at: m.index }));
  const rows = lines.map((line) =>
    Object.fromEntries(columns.map((c, i) => [c.name, line.slice(c.at, columns[i + 1]?.at ?? line.length).trim()])),
  );
  return { header: columns.map((c) => c.name), rows };
}

/** One object of the manifest as `get` prints it: kube's columns, its `-o wide` columns, and some of its cells. */
interface Listing {
  resource: string;
  name: string;
  namespaced: boolean;
  columns: string[];
  /** The `-o wide` columns, for kinds that have some (kube's priority 1 columns). */
  wide?: string[];
  cells: Record<string, string | RegExp>;
  wideCells?: Record<string, string | RegExp>;
}

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const IPV4 = /^10\.\d+\.\d+\.\d+$/;

/** kube's columns (pkg/printers/internalversion/printers.go; kinds without a printer get NAME and CREATED AT). */
const LISTINGS: Listing[] = [
  { resource: 'namespaces', name: 'shop', namespaced: false, columns: ['NAME', 'STATUS', 'AGE'], cells: { STATUS: 'Active' } },
  {
    resource: 'priorityclasses',
    name: 'shop-critical',
    namespaced: false,
    columns: ['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY'],
    cells: { VALUE: '100000', 'GLOBAL-DEFAULT': 'false', PREEMPTIONPOLICY: 'PreemptLowerPriority' },
  },
  {
    resource: 'storageclasses',
    name: 'shop-ssd',
    namespaced: false,
    columns: ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE'],
    cells: { PROVISIONER: 'ebs.csi.aws.com', RECLAIMPOLICY: 'Retain', VOLUMEBINDINGMODE: 'WaitForFirstConsumer', ALLOWVOLUMEEXPANSION: 'true' },
  },
  {
    resource: 'ingressclasses',
    name: 'shop-nginx',
    namespaced: false,
    columns: ['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE'],
    cells: { CONTROLLER: 'k8s.io/ingress-nginx', PARAMETERS: '<none>' },
  },
  {
    resource: 'persistentvolumes',
    name: 'shop-media',
    namespaced: false,
    columns: ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE'],
    wide: ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE', 'VOLUMEMODE'],
    cells: { CAPACITY: '10Gi', 'ACCESS MODES': 'RWX', 'RECLAIM POLICY': 'Retain', STATUS: 'Pending', CLAIM: '', STORAGECLASS: 'shop-nfs', VOLUMEATTRIBUTESCLASS: '<unset>', REASON: '' },
    wideCells: { VOLUMEMODE: 'Filesystem' },
  },
  { resource: 'clusterroles', name: 'shop-node-reader', namespaced: false, columns: ['NAME', 'CREATED AT'], cells: { 'CREATED AT': TIMESTAMP } },
  {
    resource: 'clusterrolebindings',
    name: 'shop-node-reader',
    namespaced: false,
    columns: ['NAME', 'ROLE', 'AGE'],
    wide: ['NAME', 'ROLE', 'AGE', 'USERS', 'GROUPS', 'SERVICEACCOUNTS'],
    cells: { ROLE: 'ClusterRole/shop-node-reader' },
    wideCells: { USERS: '', GROUPS: '', SERVICEACCOUNTS: 'shop/web' },
  },
  { resource: 'serviceaccounts', name: 'web', namespaced: true, columns: ['NAME', 'SECRETS', 'AGE'], cells: { SECRETS: '0' } },
  { resource: 'configmaps', name: 'web-config', namespaced: true, columns: ['NAME', 'DATA', 'AGE'], cells: { DATA: '2' } },
  { resource: 'secrets', name: 'web-secrets', namespaced: true, columns: ['NAME', 'TYPE', 'DATA', 'AGE'], cells: { TYPE: 'Opaque', DATA: '2' } },
  { resource: 'limitranges', name: 'defaults', namespaced: true, columns: ['NAME', 'CREATED AT'], cells: { 'CREATED AT': TIMESTAMP } },
  // REQUEST and LIMIT print the quota's status, which kube's quota controller (not run here) fills in.
  { resource: 'resourcequotas', name: 'compute', namespaced: true, columns: ['NAME', 'REQUEST', 'LIMIT', 'AGE'], cells: { REQUEST: '', LIMIT: '' } },
  {
    resource: 'persistentvolumeclaims',
    name: 'media',
    namespaced: true,
    columns: ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE'],
    wide: ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE', 'VOLUMEMODE'],
    cells: { STATUS: 'Pending', VOLUME: '', CAPACITY: '', 'ACCESS MODES': '', STORAGECLASS: 'shop-nfs', VOLUMEATTRIBUTESCLASS: '<unset>' },
    wideCells: { VOLUMEMODE: 'Filesystem' },
  },
  { resource: 'roles', name: 'web', namespaced: true, columns: ['NAME', 'CREATED AT'], cells: { 'CREATED AT': TIMESTAMP } },
  {
    resource: 'rolebindings',
    name: 'web',
    namespaced: true,
    columns: ['NAME', 'ROLE', 'AGE'],
    wide: ['NAME', 'ROLE', 'AGE', 'USERS', 'GROUPS', 'SERVICEACCOUNTS'],
    cells: { ROLE: 'Role/web' },
    wideCells: { USERS: '', GROUPS: '', SERVICEACCOUNTS: 'shop/web' },
  },
  {
    resource: 'services',
    name: 'web',
    namespaced: true,
    columns: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    wide: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR'],
    cells: { TYPE: 'ClusterIP', 'CLUSTER-IP': IPV4, 'EXTERNAL-IP': '<none>', 'PORT(S)': '80/TCP' },
    wideCells: { SELECTOR: 'app.kubernetes.io/name=web' },
  },
  {
    resource: 'services',
    name: 'web-public',
    namespaced: true,
    columns: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    wide: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR'],
    cells: { TYPE: 'NodePort', 'CLUSTER-IP': IPV4, 'EXTERNAL-IP': '<none>', 'PORT(S)': /^80:3\d{4}\/TCP$/ },
    wideCells: { SELECTOR: 'app.kubernetes.io/name=web' },
  },
  {
    resource: 'services',
    name: 'payments',
    namespaced: true,
    columns: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    wide: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR'],
    cells: { TYPE: 'ClusterIP', 'CLUSTER-IP': IPV4, 'PORT(S)': '443/TCP' },
    wideCells: { SELECTOR: '<none>' },
  },
  { resource: 'endpoints', name: 'payments', namespaced: true, columns: ['NAME', 'ENDPOINTS', 'AGE'], cells: { ENDPOINTS: '10.20.0.10:443,10.20.0.11:443' } },
  {
    resource: 'endpointslices',
    name: 'payments-1',
    namespaced: true,
    columns: ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'],
    cells: { ADDRESSTYPE: 'IPv4', PORTS: '443', ENDPOINTS: '10.20.0.10,10.20.0.11' },
  },
  {
    resource: 'deployments',
    name: 'web',
    namespaced: true,
    columns: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
    wide: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    cells: { READY: '0/2', 'UP-TO-DATE': '0', AVAILABLE: '0' },
    wideCells: { CONTAINERS: 'web', IMAGES: 'registry.example.com/shop/web:1.4.2', SELECTOR: 'app.kubernetes.io/name=web' },
  },
  {
    resource: 'replicasets',
    name: 'legacy-web',
    namespaced: true,
    columns: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
    wide: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    cells: { DESIRED: '1', CURRENT: '0', READY: '0' },
    wideCells: { CONTAINERS: 'web', IMAGES: 'registry.example.com/shop/web:1.3.9', SELECTOR: 'app.kubernetes.io/name=legacy-web' },
  },
  {
    resource: 'statefulsets',
    name: 'cache',
    namespaced: true,
    columns: ['NAME', 'READY', 'AGE'],
    wide: ['NAME', 'READY', 'AGE', 'CONTAINERS', 'IMAGES'],
    cells: { READY: '0/3' },
    wideCells: { CONTAINERS: 'redis', IMAGES: 'redis:7.2' },
  },
  {
    resource: 'daemonsets',
    name: 'log-agent',
    namespaced: true,
    columns: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE'],
    wide: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    cells: { DESIRED: '0', CURRENT: '0', READY: '0', 'UP-TO-DATE': '0', AVAILABLE: '0', 'NODE SELECTOR': '<none>' },
    wideCells: { CONTAINERS: 'fluent-bit', IMAGES: 'fluent/fluent-bit:3.0', SELECTOR: 'app.kubernetes.io/name=log-agent' },
  },
  {
    resource: 'jobs',
    name: 'migrate',
    namespaced: true,
    columns: ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE'],
    wide: ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    cells: { STATUS: 'Running', COMPLETIONS: '0/1', DURATION: '' },
    wideCells: { CONTAINERS: 'migrate', IMAGES: 'registry.example.com/shop/web:1.4.2', SELECTOR: /^batch\.kubernetes\.io\/controller-uid=[0-9a-f-]{36}$/ },
  },
  {
    resource: 'cronjobs',
    name: 'nightly-report',
    namespaced: true,
    columns: ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE'],
    wide: ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    cells: { SCHEDULE: '0 3 * * *', TIMEZONE: 'Europe/Berlin', SUSPEND: 'False', ACTIVE: '0', 'LAST SCHEDULE': '<none>' },
    wideCells: { CONTAINERS: 'report', IMAGES: 'registry.example.com/shop/report:2.0.1', SELECTOR: '<none>' },
  },
  {
    resource: 'pods',
    name: 'web-smoke-test',
    namespaced: true,
    columns: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
    wide: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    cells: { READY: '0/1', STATUS: 'Pending', RESTARTS: '0' },
    wideCells: { IP: '<none>', NODE: '<none>', 'NOMINATED NODE': '<none>', 'READINESS GATES': '<none>' },
  },
  { resource: 'leases', name: 'web-leader', namespaced: true, columns: ['NAME', 'HOLDER', 'AGE'], cells: { HOLDER: 'web-7d9f8-abcde' } },
  {
    resource: 'ingresses',
    name: 'web',
    namespaced: true,
    columns: ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE'],
    cells: { CLASS: 'shop-nginx', HOSTS: 'shop.example.com', ADDRESS: '', PORTS: '80, 443' },
  },
  { resource: 'networkpolicies', name: 'web', namespaced: true, columns: ['NAME', 'POD-SELECTOR', 'AGE'], cells: { 'POD-SELECTOR': 'app.kubernetes.io/name=web' } },
  {
    resource: 'poddisruptionbudgets',
    name: 'web',
    namespaced: true,
    columns: ['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE'],
    cells: { 'MIN AVAILABLE': '1', 'MAX UNAVAILABLE': 'N/A', 'ALLOWED DISRUPTIONS': '0' },
  },
  {
    resource: 'horizontalpodautoscalers',
    name: 'web',
    namespaced: true,
    columns: ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE'],
    cells: { REFERENCE: 'Deployment/web', TARGETS: 'cpu: <unknown>/70%', MINPODS: '2', MAXPODS: '10', REPLICAS: '0' },
  },
  {
    resource: 'events.events.k8s.io',
    name: 'web.release',
    namespaced: true,
    columns: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    wide: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME'],
    cells: { TYPE: 'Normal', REASON: 'Released', OBJECT: 'deployment/web', MESSAGE: 'Released web 1.4.2' },
    // An events.k8s.io event has no source or count: kube prints its reporting controller and
    // instance, and a count of 1.
    wideCells: { SUBOBJECT: '', SOURCE: 'shop.example.com/release, release-runner-1', COUNT: '1', NAME: 'web.release' },
  },
];

/**
 * `kubectl api-resources` of kube 1.32 for the kinds served here: NAME, SHORTNAMES, APIVERSION,
 * NAMESPACED, KIND and (with `-o wide`) CATEGORIES (verbs are left out).
 */
const KUBE_API_RESOURCES = [
  'configmaps cm v1 true ConfigMap',
  'endpoints ep v1 true Endpoints',
  'events ev v1 true Event',
  'limitranges limits v1 true LimitRange',
  'namespaces ns v1 false Namespace',
  'nodes no v1 false Node',
  'persistentvolumeclaims pvc v1 true PersistentVolumeClaim',
  'persistentvolumes pv v1 false PersistentVolume',
  'pods po v1 true Pod all',
  'resourcequotas quota v1 true ResourceQuota',
  'secrets  v1 true Secret',
  'serviceaccounts sa v1 true ServiceAccount',
  'services svc v1 true Service all',
  'customresourcedefinitions crd,crds apiextensions.k8s.io/v1 false CustomResourceDefinition api-extensions',
  'daemonsets ds apps/v1 true DaemonSet all',
  'deployments deploy apps/v1 true Deployment all',
  'replicasets rs apps/v1 true ReplicaSet all',
  'statefulsets sts apps/v1 true StatefulSet all',
  'horizontalpodautoscalers hpa autoscaling/v2 true HorizontalPodAutoscaler all',
  'cronjobs cj batch/v1 true CronJob all',
  'jobs  batch/v1 true Job all',
  'leases  coordination.k8s.io/v1 true Lease',
  'endpointslices  discovery.k8s.io/v1 true EndpointSlice',
  'events ev events.k8s.io/v1 true Event',
  'ingressclasses  networking.k8s.io/v1 false IngressClass',
  'ingresses ing networking.k8s.io/v1 true Ingress',
  'networkpolicies netpol networking.k8s.io/v1 true NetworkPolicy',
  'poddisruptionbudgets pdb policy/v1 true PodDisruptionBudget',
  'clusterrolebindings  rbac.authorization.k8s.io/v1 false ClusterRoleBinding',
  'clusterroles  rbac.authorization.k8s.io/v1 false ClusterRole',
  'rolebindings  rbac.authorization.k8s.io/v1 true RoleBinding',
  'roles  rbac.authorization.k8s.io/v1 true Role',
  'priorityclasses pc scheduling.k8s.io/v1 false PriorityClass',
  'storageclasses sc storage.k8s.io/v1 false StorageClass',
];

/** The sections of `kubectl get all` (category "all"), by the prefix of their rows' names. */
const CATEGORY_ALL: Record<string, string> = {
  pod: 'pods',
  service: 'services',
  'daemonset.apps': 'daemonsets',
  'deployment.apps': 'deployments',
  'replicaset.apps': 'replicasets',
  'statefulset.apps': 'statefulsets',
  'horizontalpodautoscaler.autoscaling': 'horizontalpodautoscalers',
  'cronjob.batch': 'cronjobs',
  'job.batch': 'jobs',
};

for (const version of VERSIONS) {
  describe(`kubectl ${version}: a platform team's manifest of every built-in kind`, () => {
    const suite = kubectlVersionsPlane(`all-kinds-${version.replace('.', '-')}`, [version]);
    const skip = suite.skip;
    let kubectl: Kubectl;
    /** Runs kubectl, expecting success; its stdout. */
    const ok = async (args: string[], input?: string): Promise<string> => {
      const r = await kubectl(args, input === undefined ? {} : { input });
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const json = async (args: string[]): Promise<Record<string, unknown>> => JSON.parse(await ok([...args, '-o', 'json'])) as Record<string, unknown>;

    before(() => {
      if (skip === false) kubectl = suite.kubectl(version);
    });

    test('apply of the manifest: every document created; again: unchanged where kube says so; diff: nothing', { skip }, async () => {
      const applied = await ok(['apply', '-f', '-'], MANIFEST);
      assert.deepEqual(applied.trim().split('\n'), DOCUMENTS.map((d) => `${d} created`));

      const versions = async (): Promise<string[]> =>
        Promise.all(
          [...CONFIGURED_AGAIN.keys()].map(async (d) => (await ok(['get', d, '-n', 'shop', '-o', 'jsonpath={.metadata.resourceVersion}'])).trim()),
        );
      const before = await versions();
      const again = await ok(['apply', '-f', '-'], MANIFEST);
      assert.deepEqual(
        again.trim().split('\n'),
        DOCUMENTS.map((d) => `${d} ${CONFIGURED_AGAIN.has(d) ? 'configured' : 'unchanged'}`),
      );
      // What kubectl sent changed nothing, so nothing was written.
      assert.deepEqual(await versions(), before);

      const diff = await kubectl(['diff', '-f', '-'], { input: MANIFEST });
      assert.equal(diff.code, 0, `diff found changes:\n${diff.stdout}${diff.stderr}`);
      assert.equal(diff.stdout, '');
    });

    test('get of each kind: kube\'s columns and cells, and the -o wide columns', { skip }, async () => {
      for (const listing of LISTINGS) {
        const args = ['get', listing.resource, listing.name, ...(listing.namespaced ? ['-n', 'shop'] : [])];
        const check = (output: Awaited<ReturnType<typeof table>>, columns: string[], cells: Record<string, string | RegExp>, what: string) => {
          assert.deepEqual(output.header, columns, `${what}: columns`);
          assert.equal(output.rows.length, 1, `${what}: one row`);
          const row = output.rows[0] ?? {};
          if (row.NAME !== undefined) assert.equal(row.NAME, listing.name, `${what}: NAME`);
          for (const [column, expected] of Object.entries(cells)) {
            if (typeof expected === 'string') assert.equal(row[column], expected, `${what}: ${column}`);
            else assert.match(row[column] ?? '', expected, `${what}: ${column}`);
          }
        };
        check(table(await ok(args)), listing.columns, listing.cells, `get ${listing.resource}`);
        check(
          table(await ok([...args, '-o', 'wide'])),
          listing.wide ?? listing.columns,
          { ...listing.cells, ...listing.wideCells },
          `get ${listing.resource} -o wide`,
        );
      }
    });

    test('get all: the kinds of category "all", each with its columns', { skip }, async () => {
      const sections = (await ok(['get', 'all', '-n', 'shop'])).trim().split(/\n\s*\n/).map(table);
      const byKind = new Map(sections.map((s) => [s.rows[0]?.NAME?.split('/')[0] ?? '', s]));
      assert.deepEqual([...byKind.keys()].sort(), Object.keys(CATEGORY_ALL).sort());
      for (const [kind, resource] of Object.entries(CATEGORY_ALL)) {
        const section = byKind.get(kind);
        const listings = LISTINGS.filter((l) => l.resource === resource);
        assert.deepEqual(section?.header, listings[0]?.columns, `${kind}: columns`);
        assert.deepEqual(
          section?.rows.map((r) => r.NAME).sort(),
          listings.map((l) => `${kind}/${l.name}`).sort(),
          `${kind}: rows`,
        );
      }
    });

    test('api-resources: every kind with its short names, scope, kind and categories as kube 1.32 lists them', { skip }, async () => {
      const listed = table(await ok(['api-resources', '-o', 'wide'])).rows.map((r) =>
        [r.NAME, r.SHORTNAMES, r.APIVERSION, r.NAMESPACED, r.KIND, r.CATEGORIES].join(' ').trim(),
      );
      for (const expected of KUBE_API_RESOURCES) assert.ok(listed.includes(expected), `${expected} in:\n${listed.join('\n')}`);
      assert.equal(listed.length, new Set(listed).size, 'each resource listed once');
    });

    test('explain: fields of a Deployment, a Pod, a Service and an autoscaling/v2 HorizontalPodAutoscaler', { skip }, async () => {
      /** The lines of an explanation, without blank ones. */
      const explain = async (...args: string[]): Promise<string[]> =>
        (await ok(['explain', ...args])).split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');

      assert.deepEqual((await explain('deployment.spec.replicas')).slice(0, 4), ['GROUP:      apps', 'KIND:       Deployment', 'VERSION:    v1', 'FIELD: replicas <integer>']);
      assert.deepEqual((await explain('pod.spec.containers.image')).slice(0, 3), ['KIND:       Pod', 'VERSION:    v1', 'FIELD: image <string>']);
      const type = await explain('service.spec.type');
      assert.deepEqual(type.slice(0, 3), ['KIND:       Service', 'VERSION:    v1', 'FIELD: type <string>']);
      if (version !== '1.27') {
        // kubectl prints a field's enum since 1.28.
        assert.deepEqual(type.slice(3, 8), ['ENUM:', '    ClusterIP', '    ExternalName', '    LoadBalancer', '    NodePort']);
      }
      const metrics = await explain('hpa.spec.metrics', '--api-version=autoscaling/v2');
      assert.deepEqual(metrics.slice(0, 4), ['GROUP:      autoscaling', 'KIND:       HorizontalPodAutoscaler', 'VERSION:    v2', 'FIELD: metrics <[]MetricSpec>']);
      const fields = metrics.slice(metrics.indexOf('FIELDS:') + 1).filter((l) => /^ {2}\S/.test(l));
      assert.deepEqual(fields, [
        '  containerResource\t<ContainerResourceMetricSource>',
        '  external\t<ExternalMetricSource>',
        '  object\t<ObjectMetricSource>',
        '  pods\t<PodsMetricSource>',
        '  resource\t<ResourceMetricSource>',
        '  type\t<string> -required-',
      ]);
    });

    test(`autoscale deployment: kubectl ${version} writes autoscaling/${version === '1.27' ? 'v1' : 'v2'}, both versions read it`, { skip }, async () => {
      const name = 'api';
      await ok(['create', 'deployment', name, '--image=registry.example.com/shop/api:3.1.0', '--replicas=2']);
      const written = await kubectl(['autoscale', 'deployment', name, '--min=2', '--max=6', '--cpu-percent=75', '-v=6']);
      assert.equal(written.code, 0, written.stderr);
      assert.equal(written.stdout.trim(), `horizontalpodautoscaler.autoscaling/${name} autoscaled`);
      const group = version === '1.27' ? 'v1' : 'v2';
      assert.match(written.stderr, new RegExp(`POST.*/apis/autoscaling/${group}/namespaces/default/horizontalpodautoscalers`));

      const v2 = await json(['get', `horizontalpodautoscalers.v2.autoscaling/${name}`]);
      assert.deepEqual(v2.spec, {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: 2,
        maxReplicas: 6,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 75 } } }],
      });
      const v1 = await json(['get', `horizontalpodautoscalers.v1.autoscaling/${name}`]);
      assert.equal(v1.apiVersion, 'autoscaling/v1');
      assert.deepEqual(v1.spec, { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 75 });
      const row = table(await ok(['get', 'hpa', name])).rows[0];
      assert.deepEqual([row?.REFERENCE, row?.TARGETS, row?.MINPODS, row?.MAXPODS], [`Deployment/${name}`, 'cpu: <unknown>/75%', '2', '6']);
    });

    test('get events.v1.events.k8s.io: an event written through core/v1', { skip }, async () => {
      // Times whose age kubectl prints the same for a minute ("5h", "30m").
      const ago = (minutes: number): string => new Date(Date.now() - minutes * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
      const first = ago(5 * 60);
      const last = ago(30);
      const event = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'web-5d8.pulled', namespace: 'shop' },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web-5d8', fieldPath: 'spec.containers{web}' },
        reason: 'Pulled',
        message: 'Successfully pulled image "registry.example.com/shop/web:1.4.2"',
        type: 'Normal',
        source: { component: 'kubelet', host: 'node-1' },
        firstTimestamp: first,
        lastTimestamp: last,
        count: 3,
      };
      assert.equal((await ok(['create', '-f', '-'], JSON.stringify(event))).trim(), 'event/web-5d8.pulled created');

      const listed = table(await ok(['get', 'events.v1.events.k8s.io', '-n', 'shop', '-o', 'wide']));
      assert.deepEqual(listed.header, ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME']);
      const row = listed.rows.find((r) => r.NAME === 'web-5d8.pulled');
      assert.deepEqual(row, {
        'LAST SEEN': '30m',
        TYPE: 'Normal',
        REASON: 'Pulled',
        OBJECT: 'pod/web-5d8',
        SUBOBJECT: 'spec.containers{web}',
        SOURCE: 'kubelet, node-1',
        MESSAGE: event.message,
        'FIRST SEEN': '5h',
        COUNT: '3',
        NAME: 'web-5d8.pulled',
      });

      const viewed = await json(['get', 'events.v1.events.k8s.io', 'web-5d8.pulled', '-n', 'shop']);
      assert.equal(viewed.apiVersion, 'events.k8s.io/v1');
      assert.deepEqual(viewed.regarding, event.involvedObject);
      assert.equal(viewed.note, event.message);
      assert.deepEqual(
        [viewed.deprecatedSource, viewed.deprecatedFirstTimestamp, viewed.deprecatedLastTimestamp, viewed.deprecatedCount],
        [event.source, first, last, 3],
      );
      assert.equal(viewed.involvedObject, undefined);
    });
  });
}
