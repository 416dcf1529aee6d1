/**
 * The typed services of the built-in kinds (proto/apiserver/kinds/): the committed files are
 * what the generator writes from BUILTIN_KINDS (run `make gen-typed-api` when this fails after
 * a built-in kind was added), every built-in kind has its service, and the files load.
 * Run: ./node_modules/.bin/node --test lib/kinds/gen/typed-api.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { BUILTIN_KINDS } from '../builtin/index.ts';
import { CONFIG_MAP } from '../builtin/configmap.ts';
import { readGoFacts } from '../schemas.ts';
import type { KindDefinition } from '../types.ts';
import { generateTypedApi, serviceNameOf, typedApiOf } from './typed-api.ts';
import { staleTypedApiFiles } from '../../../scripts/gen-typed-api.ts';

const PROTO_DIR = fileURLToPath(new URL('../../../proto', import.meta.url));
const facts = readGoFacts();

test('the committed files are what the generator writes from the built-in kinds (else: make gen-typed-api)', () => {
  const { files, warnings } = generateTypedApi(BUILTIN_KINDS, facts);
  assert.deepEqual(warnings, [], 'every built-in kind has generated messages');
  assert.deepEqual(staleTypedApiFiles(files), { changed: [], removed: [] });
});

test('every built-in kind has its service, with the verbs of the JSON API and its own messages', () => {
  const { files } = generateTypedApi(BUILTIN_KINDS, facts);
  const protoFiles = [...files.keys()].filter((f) => f.startsWith('proto/')).map((f) => f.slice('proto/'.length));
  const definition = protoLoader.loadSync(protoFiles, { includeDirs: [PROTO_DIR] });
  for (const kind of BUILTIN_KINDS.filter((k) => k.review !== true)) {
    const api = typedApiOf(kind, facts)!;
    const service = definition[api.serviceName] as protoLoader.ServiceDefinition | undefined;
    assert.ok(service !== undefined, api.serviceName);
    assert.deepEqual(Object.keys(service), ['Create', 'Get', 'List', 'Update', 'Patch', 'Delete', 'Watch', 'DeleteCollection']);
    const type = (m: protoLoader.MethodDefinition<object, object>, side: 'requestType' | 'responseType') =>
      (m[side].type as { name: string }).name;
    assert.equal(type(service.Get!, 'responseType'), kind.kind);
    assert.equal(type(service.List!, 'responseType'), kind.listKind);
    assert.equal(type(service.Create!, 'requestType'), `Create${kind.kind}Request`);
    assert.equal(type(service.Watch!, 'responseType'), `${kind.kind}WatchEvent`);
    assert.equal(service.Watch!.responseStream, true);
  }
  const configMaps = typedApiOf(CONFIG_MAP, facts)!;
  assert.deepEqual(
    { file: configMaps.file, serviceName: configMaps.serviceName, message: configMaps.message, listMessage: configMaps.listMessage },
    {
      file: 'apiserver/kinds/core_v1.proto',
      serviceName: 'apiserver.kinds.core.v1.ConfigMaps',
      message: 'k8s.io.api.core.v1.ConfigMap',
      listMessage: 'k8s.io.api.core.v1.ConfigMapList',
    },
  );
});

test('a kind added to the built-in kinds gets its service in its group-version\'s file', () => {
  const deployment: KindDefinition = {
    ...CONFIG_MAP,
    group: 'apps',
    kind: 'Deployment',
    listKind: 'DeploymentList',
    resource: 'deployments',
    singular: 'deployment',
    schema: 'io.k8s.api.apps.v1.Deployment',
  };
  const event: KindDefinition = { ...deployment, group: 'events.k8s.io', kind: 'Event', listKind: 'EventList', resource: 'events', schema: 'io.k8s.api.events.v1.Event' };
  // whatever the built-in kinds are: a set of its own
  const { files, warnings } = generateTypedApi([CONFIG_MAP, deployment, event], facts);
  assert.deepEqual([...files.keys()].sort(), [
    'packages/client/src/kinds.ts',
    'proto/apiserver/kinds/apps_v1.proto',
    'proto/apiserver/kinds/core_v1.proto',
    'proto/apiserver/kinds/events_v1.proto',
  ]);
  assert.deepEqual(warnings, []);
  const apps = files.get('proto/apiserver/kinds/apps_v1.proto');
  assert.ok(apps !== undefined);
  assert.match(apps, /^package apiserver\.kinds\.apps\.v1;$/m);
  assert.match(apps, /^service Deployments \{$/m);
  assert.match(apps, /rpc List\(\.apiserver\.v1\.TypedListRequest\) returns \(\.k8s\.io\.api\.apps\.v1\.DeploymentList\);/);
  assert.match(apps, /^import "k8s\/generated\/apps\.v1\.proto";$/m);
  assert.match(files.get('proto/apiserver/kinds/events_v1.proto')!, /^service Events \{$/m, 'events.k8s.io: a package of its own, apart from core/v1 Event');
  // the client package lists the new file, and types it
  const client = files.get('packages/client/src/kinds.ts')!;
  assert.match(client, /^import type \{ ProtoGrpcType as apps_v1 \} from '\.\/gen\/apps_v1\.ts';$/m);
  assert.match(client, /'apiserver\/kinds\/apps_v1\.proto'/);
  // the new files load (their imports resolve) beside the committed ones
  const dir = mkdtempSync(path.join(tmpdir(), 'typed-api-'));
  try {
    const protoFiles: string[] = [];
    for (const [rel, text] of files) {
      if (!rel.startsWith('proto/')) continue;
      protoFiles.push(rel.slice('proto/'.length));
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), text);
    }
    // with the committed files they import (and not the committed typed services)
    cpSync(PROTO_DIR, path.join(dir, 'proto'), { recursive: true, force: false, filter: (src) => !src.includes(`${path.sep}kinds${path.sep}`) });
    const definition = protoLoader.loadSync(protoFiles, { includeDirs: [path.join(dir, 'proto')] });
    assert.ok(definition['apiserver.kinds.apps.v1.Deployments'] !== undefined);
    assert.ok(definition['apiserver.kinds.events.v1.Events'] !== undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // a kind without generated messages (a custom kind) is left out, saying so
  const custom: KindDefinition = { ...deployment, group: 'example.com', kind: 'Widget', resource: 'widgets', schema: 'com.example.v1.Widget' };
  assert.match(generateTypedApi([custom], facts).warnings[0]!, /example\.com\/v1 Widget: no generated protobuf message/);
});

test('service names: the plural in the kind\'s own capitals', () => {
  const names: [string, string, string][] = [
    ['ConfigMap', 'configmaps', 'ConfigMaps'],
    ['Endpoints', 'endpoints', 'Endpoints'],
    ['Ingress', 'ingresses', 'Ingresses'],
    ['NetworkPolicy', 'networkpolicies', 'NetworkPolicies'],
    ['PriorityClass', 'priorityclasses', 'PriorityClasses'],
    ['HorizontalPodAutoscaler', 'horizontalpodautoscalers', 'HorizontalPodAutoscalers'],
  ];
  for (const [kind, resource, service] of names) assert.equal(serviceNameOf({ kind, resource }), service);
  assert.throws(() => serviceNameOf({ kind: 'Person', resource: 'people' }), /no typed service name for Person/);
});
