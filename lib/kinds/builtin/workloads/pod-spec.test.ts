/**
 * The shared PodSpec: defaults as kube's SetDefaults give them, validation errors as kube
 * words them, quantities as kube writes them back.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FieldError } from '../../../errors.ts';
import { defaultPodSpec, defaultPodSpecOfPod, defaultPodTemplateSpec, imageTag, podQOSClass, validatePodSpec, validatePodTemplateSpec } from './pod-spec.ts';
import { compareQuantities, formatQuantity, quantityOf, roundUpQuantity } from '../../quantity.ts';

/** kube's causes as "field: type: detail" lines, compact for tables. */
function causes(errors: FieldError[]): string[] {
  return errors.map((e) => `${e.field}: ${e.type}${e.value === undefined ? '' : ` ${JSON.stringify(e.value)}`}${e.detail === '' ? '' : `: ${e.detail}`}`);
}

function defaultedTemplateSpec(spec: Record<string, unknown>): Record<string, unknown> {
  const template = { metadata: { labels: { app: 'web' } }, spec: structuredClone(spec) };
  defaultPodTemplateSpec(template);
  return template.spec;
}

describe('quantities', () => {
  const cases: [string, string, string][] = [
    // text, String(), String() after the milli round-up of SetDefaults_ResourceList
    ['100m', '100m', '100m'],
    ['0.5', '500m', '500m'],
    ['1000', '1k', '1k'],
    ['1Gi', '1Gi', '1Gi'],
    ['1024Mi', '1Gi', '1Gi'],
    ['1.5Gi', '1536Mi', '1536Mi'],
    ['2000m', '2', '2'],
    ['0.0001', '100u', '1m'],
    ['1n', '1n', '1m'],
    ['12e6', '12e6', '12e6'],
    ['0.1Ki', '102400m', '102400m'],
    ['128974848', '128974848', '128974848'],
    ['129e6', '129e6', '129e6'],
    ['123Mi', '123Mi', '123Mi'],
  ];
  for (const [text, canonical, milli] of cases) {
    test(`${text} is written ${canonical}`, () => {
      const q = quantityOf(text);
      assert.ok(q !== undefined);
      assert.equal(formatQuantity(q), canonical);
      assert.equal(formatQuantity(roundUpQuantity(q, 3)), milli);
    });
  }
  test('comparison is exact across formats', () => {
    const a = quantityOf('1Gi');
    const b = quantityOf('1073741824');
    const c = quantityOf('1G');
    assert.ok(a && b && c);
    assert.equal(compareQuantities(a, b), 0);
    assert.equal(compareQuantities(c, a), -1);
  });
  test('text that is no quantity parses to undefined', () => {
    for (const text of ['', 'abc', '1.2.3', '5Mb', '1e', '--1']) assert.equal(quantityOf(text), undefined, text);
  });
});

describe('image tags decide the pull policy', () => {
  const cases: [string, string][] = [
    ['nginx', 'latest'],
    ['nginx:latest', 'latest'],
    ['nginx:1.27', '1.27'],
    ['registry.example.com:5000/team/app:v2', 'v2'],
    ['localhost/app', 'latest'],
    ['busybox@sha256:' + 'a'.repeat(64), ''],
    ['Nginx', ''],
  ];
  for (const [image, tag] of cases) test(image, () => assert.equal(imageTag(image), tag));
});

describe('defaultPodSpec', () => {
  test('a minimal template spec gets what kube-apiserver gives it', () => {
    const spec = defaultedTemplateSpec({ containers: [{ name: 'web', image: 'nginx:1.27' }] });
    assert.deepEqual(spec, {
      containers: [{ name: 'web', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }],
      dnsPolicy: 'ClusterFirst',
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      terminationGracePeriodSeconds: 30,
    });
  });

  test('containers, probes, env, ports, resources and volumes', () => {
    const spec = defaultedTemplateSpec({
      initContainers: [{ name: 'init', image: 'busybox' }],
      containers: [
        {
          name: 'web',
          image: 'nginx',
          ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }],
          env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          resources: { limits: { cpu: '0.5', memory: '1024Mi' }, requests: { cpu: '0.0001' } },
          livenessProbe: { httpGet: { port: 80 } },
          readinessProbe: { grpc: { port: 9000 }, periodSeconds: 5 },
          lifecycle: { preStop: { httpGet: { port: 'http' } } },
        },
      ],
      volumes: [
        { name: 'scratch' },
        { name: 'config', configMap: { name: 'settings' } },
        { name: 'creds', secret: { secretName: 'creds', defaultMode: 256 } },
        { name: 'host', hostPath: { path: '/var/log' } },
        { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }, { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }] } },
      ],
    });
    const [web] = spec['containers'] as Record<string, unknown>[];
    const [init] = spec['initContainers'] as Record<string, unknown>[];
    assert.equal(init?.['imagePullPolicy'], 'Always');
    assert.equal(web?.['imagePullPolicy'], 'Always');
    assert.deepEqual(web?.['ports'], [
      { containerPort: 80, protocol: 'TCP' },
      { containerPort: 53, protocol: 'UDP' },
    ]);
    assert.deepEqual(web?.['env'], [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name', apiVersion: 'v1' } } }]);
    // Templates keep requests as given (only a Pod's requests default to its limits).
    assert.deepEqual(web?.['resources'], { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '1m' } });
    assert.deepEqual(web?.['livenessProbe'], { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    assert.deepEqual(web?.['readinessProbe'], { grpc: { port: 9000, service: '' }, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
    assert.deepEqual(web?.['lifecycle'], { preStop: { httpGet: { port: 'http', path: '/', scheme: 'HTTP' } } });
    assert.deepEqual(spec['volumes'], [
      { name: 'scratch', emptyDir: {} },
      { name: 'config', configMap: { name: 'settings', defaultMode: 420 } },
      { name: 'creds', secret: { secretName: 'creds', defaultMode: 256 } },
      { name: 'host', hostPath: { path: '/var/log', type: '' } },
      {
        name: 'token',
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
            { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels', apiVersion: 'v1' } }] } },
          ],
        },
      },
    ]);
    assert.equal(spec['enableServiceLinks'], undefined);
  });

  test("a Pod's own spec: requests from limits, enableServiceLinks, host ports under hostNetwork", () => {
    const spec: Record<string, unknown> = {
      hostNetwork: true,
      containers: [{ name: 'a', image: 'x:1', ports: [{ containerPort: 8080 }], resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '250m' } } }],
    };
    defaultPodSpecOfPod(spec);
    const [a] = spec['containers'] as Record<string, unknown>[];
    assert.deepEqual(a?.['resources'], { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '250m', memory: '1Gi' } });
    assert.deepEqual(a?.['ports'], [{ containerPort: 8080, hostPort: 8080, protocol: 'TCP' }]);
    assert.equal(spec['enableServiceLinks'], true);
    assert.equal(spec['restartPolicy'], 'Always');
  });

  test('values set by the client are kept', () => {
    const spec = defaultedTemplateSpec({
      restartPolicy: 'Never',
      dnsPolicy: 'Default',
      terminationGracePeriodSeconds: 0,
      schedulerName: 'custom',
      securityContext: { runAsUser: 1000 },
      containers: [{ name: 'a', image: 'x', imagePullPolicy: 'Never', terminationMessagePolicy: 'FallbackToLogsOnError' }],
    });
    assert.equal(spec['restartPolicy'], 'Never');
    assert.equal(spec['dnsPolicy'], 'Default');
    assert.equal(spec['terminationGracePeriodSeconds'], 0);
    assert.equal(spec['schedulerName'], 'custom');
    assert.deepEqual(spec['securityContext'], { runAsUser: 1000 });
    assert.equal((spec['containers'] as Record<string, unknown>[])[0]?.['imagePullPolicy'], 'Never');
  });

  test('never throws on malformed input', () => {
    for (const bad of [undefined, null, 7, 'x', [], { containers: 'x', volumes: [null, 3, { secret: 'x' }], overhead: [] }, { containers: [null, { resources: { limits: 'x' } }] }]) {
      defaultPodSpec(bad);
      defaultPodTemplateSpec(bad);
      defaultPodTemplateSpec({ spec: bad });
      defaultPodSpecOfPod(bad);
      validatePodSpec(bad, 'spec');
      validatePodTemplateSpec(bad, 'spec.template');
    }
  });
});

describe('validatePodSpec', () => {
  const base = (): Record<string, unknown> => ({ containers: [{ name: 'web', image: 'nginx' }] });
  const cases: { name: string; spec: Record<string, unknown>; causes: string[] }[] = [
    { name: 'a valid spec', spec: base(), causes: [] },
    { name: 'no containers', spec: { containers: [] }, causes: ['spec.template.spec.containers: FieldValueRequired'] },
    {
      name: 'container name and image',
      spec: { containers: [{ name: 'Web_1' }, { name: '', image: 'x' }] },
      causes: [
        `spec.template.spec.containers[0].name: FieldValueInvalid "Web_1": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
        'spec.template.spec.containers[0].image: FieldValueRequired',
        'spec.template.spec.containers[1].name: FieldValueRequired',
      ],
    },
    {
      name: 'duplicate container names, across init containers too',
      spec: { containers: [{ name: 'a', image: 'x' }, { name: 'a', image: 'y' }], initContainers: [{ name: 'a', image: 'z' }] },
      causes: ['spec.template.spec.containers[1].name: FieldValueDuplicate "a"', 'spec.template.spec.initContainers[0].name: FieldValueDuplicate "a"'],
    },
    {
      name: 'ports',
      spec: { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 70000, name: 'http' }, { containerPort: 80, protocol: 'HTTP', name: 'http' }, { name: 'Web' }] }] },
      causes: [
        'spec.template.spec.containers[0].ports[0].containerPort: FieldValueInvalid 70000: must be between 1 and 65535, inclusive',
        'spec.template.spec.containers[0].ports[1].name: FieldValueDuplicate "http"',
        'spec.template.spec.containers[0].ports[1].protocol: FieldValueNotSupported "HTTP": supported values: "SCTP", "TCP", "UDP"',
        'spec.template.spec.containers[0].ports[2].name: FieldValueInvalid "Web": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
        'spec.template.spec.containers[0].ports[2].containerPort: FieldValueRequired',
      ],
    },
    {
      name: 'restart and DNS policies',
      spec: { ...base(), restartPolicy: 'Sometimes', dnsPolicy: 'Cluster' },
      causes: [
        'spec.template.spec.restartPolicy: FieldValueNotSupported "Sometimes": supported values: "Always", "OnFailure", "Never"',
        'spec.template.spec.dnsPolicy: FieldValueNotSupported "Cluster": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
      ],
    },
    {
      name: 'volumes: unique names, one source, mounts naming them',
      spec: {
        containers: [{ name: 'a', image: 'x', volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'missing', mountPath: '/data' }] }],
        volumes: [{ name: 'data', emptyDir: {} }, { name: 'data', emptyDir: {} }, { name: 'both', emptyDir: {}, secret: { secretName: 's' } }],
      },
      causes: [
        'spec.template.spec.volumes[1].name: FieldValueDuplicate "data"',
        'spec.template.spec.volumes[2].secret: FieldValueForbidden: may not specify more than 1 volume type',
        'spec.template.spec.containers[0].volumeMounts[1].name: FieldValueNotFound "missing"',
        'spec.template.spec.containers[0].volumeMounts[1].mountPath: FieldValueInvalid "/data": must be unique',
      ],
    },
    {
      name: 'resources: names, quantities, requests at most limits',
      spec: { containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '500m', gpu: '1' }, requests: { cpu: '1', 'example.com/dongle': '1' } } }] },
      causes: [
        'spec.template.spec.containers[0].resources.limits[gpu]: FieldValueInvalid "gpu": must be a standard resource type or fully qualified',
        'spec.template.spec.containers[0].resources.limits[gpu]: FieldValueInvalid "gpu": must be a standard resource for containers',
        'spec.template.spec.containers[0].resources.requests: FieldValueInvalid "1": must be less than or equal to cpu limit of 500m',
        'spec.template.spec.containers[0].resources.limits: FieldValueRequired: Limit must be set for non overcommitable resources',
      ],
    },
    {
      name: 'env names and sources',
      spec: {
        containers: [
          {
            name: 'a',
            image: 'x',
            env: [{ name: 'A=B' }, { name: '' }, { name: 'C', value: 'v', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } }, { name: 'D', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.foo' } } }],
          },
        ],
      },
      causes: [
        `spec.template.spec.containers[0].env[0].name: FieldValueInvalid "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
        'spec.template.spec.containers[0].env[1].name: FieldValueRequired',
        'spec.template.spec.containers[0].env[2].valueFrom: FieldValueInvalid "": may not be specified when `value` is not empty',
        'spec.template.spec.containers[0].env[3].valueFrom.fieldRef.fieldPath: FieldValueInvalid "spec.foo": error converting fieldPath: field label not supported: spec.foo',
      ],
    },
    {
      name: 'probes',
      spec: { containers: [{ name: 'a', image: 'x', livenessProbe: { successThreshold: 2, timeoutSeconds: 1, periodSeconds: 1, failureThreshold: 1 }, readinessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 80 }, timeoutSeconds: 1, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 } }] },
      causes: [
        'spec.template.spec.containers[0].livenessProbe: FieldValueRequired: must specify a handler type',
        'spec.template.spec.containers[0].livenessProbe.successThreshold: FieldValueInvalid 2: must be 1',
        'spec.template.spec.containers[0].readinessProbe.tcpSocket: FieldValueForbidden: may not specify more than 1 handler type',
      ],
    },
    {
      name: 'init containers without restartPolicy Always may not have probes',
      spec: { ...base(), initContainers: [{ name: 'i', image: 'x', readinessProbe: { exec: { command: ['true'] } } }, { name: 'sidecar', image: 'x', restartPolicy: 'OnFailure' }] },
      causes: [
        'spec.template.spec.initContainers[0].readinessProbe: FieldValueForbidden: may not be set for init containers without restartPolicy=Always',
        'spec.template.spec.initContainers[1].restartPolicy: FieldValueNotSupported "OnFailure": supported values: "Always"',
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const template = { metadata: {}, spec: structuredClone(c.spec) };
      defaultPodTemplateSpec(template);
      assert.deepEqual(causes(validatePodTemplateSpec(template, 'spec.template')), c.causes);
    });
  }

  test('template labels are checked at <path>.labels, as kube names them', () => {
    const template = { metadata: { labels: { 'bad key!': 'v' } }, spec: base() };
    defaultPodTemplateSpec(template);
    const found = causes(validatePodTemplateSpec(template, 'spec.template'));
    assert.equal(found.length, 1);
    assert.match(found[0] ?? '', /^spec\.template\.labels: FieldValueInvalid "bad key!": name part must consist of/);
  });

  test('a spec that was not defaulted misses what kube requires', () => {
    assert.deepEqual(causes(validatePodSpec(base(), 'spec')), [
      'spec.terminationGracePeriodSeconds: FieldValueRequired',
      'spec.containers[0].terminationMessagePolicy: FieldValueRequired',
      'spec.containers[0].imagePullPolicy: FieldValueRequired',
      'spec.restartPolicy: FieldValueRequired',
      'spec.dnsPolicy: FieldValueRequired',
    ]);
  });
});

describe('QoS class', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['no resources', { containers: [{ name: 'a' }] }, 'BestEffort'],
    ['requests only', { containers: [{ resources: { requests: { cpu: '100m' } } }] }, 'Burstable'],
    ['limits equal to requests', { containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1000m', memory: '1024Mi' } } }] }, 'Guaranteed'],
    ['limits without memory', { containers: [{ resources: { limits: { cpu: '1' }, requests: { cpu: '1' } } }] }, 'Burstable'],
    ['one container without limits', { containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } } }, { name: 'b' }] }, 'Burstable'],
  ];
  for (const [name, spec, qos] of cases) test(name, () => assert.equal(podQOSClass(spec), qos));
});
