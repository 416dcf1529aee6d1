/**
 * gRPC server reflection on the gateway's typed API port, through a client written against the
 * reflection protos (v1 and v1alpha): the services the port serves are listed (and no other),
 * and the file defining a service or a message comes with every file it imports, so a generic
 * tool can describe and call the API.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGrpcPlane, type GrpcPlane } from '../support/grpc-plane.ts';
import { ReflectionClient, type FileDescriptor } from '../support/reflection-client.ts';

let g: GrpcPlane;

before(async () => {
  g = await startGrpcPlane('reflection');
});

after(async () => {
  await g?.stop();
});

/** Every message and service a set of files defines, by fully qualified name. */
function symbols(files: FileDescriptor[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    for (const m of f.messageType ?? []) out.add(`${f.package}.${m.name}`);
    for (const s of f.service ?? []) out.add(`${f.package}.${s.name}`);
  }
  return out;
}

/** Whether every file imported by one of `files` is among them. */
function selfContained(files: FileDescriptor[]): string[] {
  const names = new Set(files.map((f) => f.name));
  return files.flatMap((f) => (f.dependency ?? []).filter((d) => !names.has(d)));
}

for (const version of ['v1', 'v1alpha'] as const) {
  test(`${version}: lists the services the port serves`, async () => {
    const client = new ReflectionClient(g.plane.addresses.gateway, version);
    try {
      const services = await client.listServices();
      assert.ok(services.includes('apiserver.v1.Resources'), services.join(' '));
      assert.ok(services.includes('grpc.health.v1.Health'));
      assert.ok(services.includes('grpc.reflection.v1.ServerReflection'));
      assert.ok(services.includes('grpc.reflection.v1alpha.ServerReflection'));
      // resources.proto imports watch.proto, but the gateway does not serve the watch service
      assert.ok(!services.includes('apiserver.v1.Watch'), services.join(' '));
    } finally {
      client.close();
    }
  });

  test(`${version}: the file containing a service, with its imports, describes every method`, async () => {
    const client = new ReflectionClient(g.plane.addresses.gateway, version);
    try {
      const files = await client.fileContainingSymbol('apiserver.v1.Resources');
      const resources = files[0]!;
      assert.equal(resources.package, 'apiserver.v1');
      const service = resources.service?.find((s) => s.name === 'Resources');
      assert.deepEqual(service?.method?.map((m) => m.name), ['Create', 'Get', 'List', 'Update', 'Patch', 'Delete', 'DeleteCollection', 'Watch']);
      const watch = service!.method!.find((m) => m.name === 'Watch')!;
      assert.equal(watch.outputType, '.apiserver.v1.WatchEvent');
      assert.equal(watch.serverStreaming, true);
      assert.deepEqual(selfContained(files), [], 'every import is sent along');
      const defined = symbols(files);
      for (const m of service!.method!) {
        assert.ok(defined.has(m.inputType.slice(1)), m.inputType);
        assert.ok(defined.has(m.outputType.slice(1)), m.outputType);
      }
      // a message's file, and an unknown symbol
      assert.ok(symbols(await client.fileContainingSymbol('apiserver.v1.ListOptions')).has('apiserver.v1.ListOptions'));
      const unknown = await client.symbolError('apiserver.v1.NoSuchThing');
      assert.equal(unknown?.errorCode, 5, 'NOT_FOUND');
    } finally {
      client.close();
    }
  });
}
