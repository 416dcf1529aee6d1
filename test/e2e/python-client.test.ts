/**
 * A client in a second language, generated from proto/: Python stubs made by Debian's
 * python3-grpc-tools (protoc 3.5) into a temporary folder, and test/python/typed_client.py run
 * against a control plane with them (create, get, list, watch from a resourceVersion, a refusal's
 * Status) through the typed ConfigMap service, the JSON Resources API alongside.
 * Needs python3 with grpc, grpc_tools and google.protobuf (python3-grpcio, python3-grpc-tools,
 * python3-protobuf; scripts/ensure-system-deps.sh installs them); PYTHON names another python.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { PROTO_DIR } from '../../lib/proto.ts';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../python/typed_client.py', import.meta.url));
/** Debian's python, where its python3-grpc* packages are, unless PYTHON says otherwise. */
const PYTHON = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

let dir: string;
let plane: ControlPlane;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-python-'));
  plane = await startControlPlane({ dataDir: join(dir, 'plane'), logDir: join(dir, 'logs') });
});

after(async () => {
  await plane?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** The .proto files (relative to proto/) of a directory of proto/. */
async function protos(sub: string): Promise<string[]> {
  return (await readdir(join(PROTO_DIR, sub))).filter((f) => f.endsWith('.proto')).map((f) => `${sub}/${f}`);
}

test('Python stubs generated from proto/ create, get, list and watch from a resourceVersion', async () => {
  const missing = await run(PYTHON, ['-c', 'import grpc, grpc_tools.protoc, google.protobuf']).then(
    () => undefined,
    (err: { stderr?: string }) => err.stderr ?? String(err),
  );
  assert.equal(missing, undefined, `${PYTHON} lacks grpc, grpc_tools or protobuf (apt-get install python3-grpcio python3-grpc-tools python3-protobuf)`);

  const stubs = join(dir, 'stubs');
  const files = [...(await protos('apiserver/v1')), ...(await protos('apiserver/kinds')), 'google/rpc/status.proto', ...(await protos('k8s/generated'))];
  await mkdir(stubs);
  await run(PYTHON, ['-m', 'grpc_tools.protoc', '-I', PROTO_DIR, `--python_out=${stubs}`, `--grpc_python_out=${stubs}`, ...files], { timeout: 120_000 });

  const token = (await readFile(join(dir, 'plane', 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  let stdout: string;
  try {
    ({ stdout } = await run(PYTHON, [SCRIPT, stubs, plane.addresses.gateway, token], { timeout: 120_000 }));
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    assert.fail(`the Python client failed:\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
  const seen = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    uid: string;
    listed: string[];
    listResourceVersion: string;
    event: { type: string; name: string; mode: string; resourceVersion: string };
    notFound: string;
  };
  assert.match(seen.uid, /^[0-9a-f-]{36}$/);
  assert.deepEqual(seen.listed, ['settings']);
  assert.deepEqual({ ...seen.event, resourceVersion: undefined }, { type: 'MODIFIED', name: 'settings', mode: 'safe', resourceVersion: undefined });
  assert.ok(Number(seen.event.resourceVersion) > Number(seen.listResourceVersion));
  assert.equal(seen.notFound, 'configmaps "missing" not found');
});
