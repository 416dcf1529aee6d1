/**
 * First-start bootstrap of the admin credential, in temporary folders; the kubeconfig is read
 * back by the real kubectl (`kubectl config view --raw -o json`).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureCA } from '../../../lib/pki.ts';
import { kubectlBinary } from '../../../test/support/kubectl.ts';
import { bootstrapAdmin, bootstrapAdminCertificate, renderKubeconfig, writeFileAtomic } from './bootstrap.ts';
import { parseTokenFile } from './token-file.ts';

const run = promisify(execFile);
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUX2V4YW1wbGUtY2EtZm9yLXRlc3Rz\n-----END CERTIFICATE-----\n';
const SERVER = 'https://127.0.0.1:6443';

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bootstrap-test-'));
  dirs.push(dir);
  return dir;
}

interface KubeconfigView {
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { name: string; user: { token: string } }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  'current-context': string;
}

/** What kubectl makes of a kubeconfig file (it fails on YAML it cannot read). */
async function kubectlView(file: string): Promise<KubeconfigView> {
  const { stdout } = await run(kubectlBinary(), ['config', 'view', '--kubeconfig', file, '--raw', '-o', 'json'], {
    env: { ...process.env, HOME: await tempDir(), KUBECONFIG: '' },
    timeout: 20_000,
  });
  return JSON.parse(stdout) as KubeconfigView;
}

/** The server, CA and token kubectl would use with the current context. */
function current(view: KubeconfigView): { server: string; ca: string; token: string } {
  const context = view.contexts.find((c) => c.name === view['current-context'])?.context;
  assert.ok(context, 'the current context exists');
  const cluster = view.clusters.find((c) => c.name === context.cluster)?.cluster;
  const user = view.users.find((u) => u.name === context.user)?.user;
  assert.ok(cluster && user);
  return { server: cluster.server, ca: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8'), token: user.token };
}

describe('bootstrapAdmin', () => {
  test('first start: tokens.csv (0600) with one system:masters admin, and a kubeconfig kubectl reads', async () => {
    const dir = await tempDir();
    const tokenFile = join(dir, 'tokens.csv');
    const result = await bootstrapAdmin({ tokenFile, dataDir: dir, server: SERVER, caPem: CA_PEM });
    assert.equal(result.created, true);

    const text = await readFile(tokenFile, 'utf8');
    assert.equal(result.tokenFileText, text);
    assert.equal((await stat(tokenFile)).mode & 0o777, 0o600);
    const entries = parseTokenFile(text);
    assert.equal(entries.length, 1);
    const [admin] = entries;
    assert.ok(admin);
    assert.match(admin.token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    assert.equal(admin.user.username, 'admin');
    assert.match(admin.user.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(admin.user.groups, ['system:masters']);

    const kubeconfig = join(dir, 'admin.kubeconfig');
    assert.equal((await stat(kubeconfig)).mode & 0o777, 0o600, 'the kubeconfig holds the token');
    assert.deepEqual(current(await kubectlView(kubeconfig)), { server: SERVER, ca: CA_PEM, token: admin.token });
  });

  test('two starts make two different tokens (random, not derived)', async () => {
    const a = await tempDir();
    const b = await tempDir();
    const ra = await bootstrapAdmin({ tokenFile: join(a, 't.csv'), dataDir: a, server: SERVER, caPem: CA_PEM });
    const rb = await bootstrapAdmin({ tokenFile: join(b, 't.csv'), dataDir: b, server: SERVER, caPem: CA_PEM });
    assert.notEqual(parseTokenFile(ra.tokenFileText)[0]?.token, parseTokenFile(rb.tokenFileText)[0]?.token);
  });

  test('a second call rewrites neither the token file nor the kubeconfig', async () => {
    const dir = await tempDir();
    const tokenFile = join(dir, 'tokens.csv');
    const options = { tokenFile, dataDir: dir, server: SERVER, caPem: CA_PEM };
    const first = await bootstrapAdmin(options);
    const kubeconfig = join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfig, 'edited by the operator\n');
    const before = await stat(tokenFile);

    const second = await bootstrapAdmin({ ...options, server: 'https://elsewhere:1' });
    assert.equal(second.created, false);
    assert.equal(second.tokenFileText, first.tokenFileText);
    assert.equal(await readFile(tokenFile, 'utf8'), first.tokenFileText);
    const afterStat = await stat(tokenFile);
    assert.equal(afterStat.ino, before.ino);
    assert.equal(afterStat.mtimeMs, before.mtimeMs);
    assert.equal(await readFile(kubeconfig, 'utf8'), 'edited by the operator\n');
  });

  test('a later start at another URL moves the kubeconfig\'s server and keeps its credentials', async () => {
    const dir = await tempDir();
    const options = { tokenFile: join(dir, 'tokens.csv'), dataDir: dir, server: SERVER, caPem: CA_PEM };
    const first = await bootstrapAdmin(options);
    const token = parseTokenFile(first.tokenFileText)[0]?.token;
    const kubeconfig = join(dir, 'admin.kubeconfig');
    const moved = 'https://127.0.0.1:7443';
    const second = await bootstrapAdmin({ ...options, server: moved });
    assert.equal(second.created, false);
    assert.equal(second.tokenFileText, first.tokenFileText);
    assert.deepEqual(current(await kubectlView(kubeconfig)), { server: moved, ca: CA_PEM, token });
    assert.equal((await stat(kubeconfig)).mode & 0o777, 0o600);
    // The same URL again: the file is not touched.
    const before = await stat(kubeconfig);
    await bootstrapAdmin({ ...options, server: moved });
    assert.equal((await stat(kubeconfig)).ino, before.ino);
  });

  test('an operator\'s token file is used as it is, and no kubeconfig is written', async () => {
    const dir = await tempDir();
    const tokenFile = join(dir, 'tokens.csv');
    const mine = 'my-token,ops,7,"system:masters"\n';
    await writeFile(tokenFile, mine);
    const result = await bootstrapAdmin({ tokenFile, dataDir: dir, server: SERVER, caPem: CA_PEM });
    assert.deepEqual(result, { created: false, tokenFileText: mine });
    assert.deepEqual(await readdir(dir), ['tokens.csv']);
  });

  test('missing folders are created', async () => {
    const dir = await tempDir();
    const tokenFile = join(dir, 'a', 'b', 'tokens.csv');
    const dataDir = join(dir, 'c', 'd');
    const result = await bootstrapAdmin({ tokenFile, dataDir, server: SERVER, caPem: CA_PEM });
    assert.equal(result.created, true);
    assert.equal(await readFile(tokenFile, 'utf8'), result.tokenFileText);
    assert.equal(current(await kubectlView(join(dataDir, 'admin.kubeconfig'))).server, SERVER);
  });

  test('concurrent first starts create exactly one token, and leave no temporary files', async () => {
    const dir = await tempDir();
    const tokenFile = join(dir, 'tokens.csv');
    const results = await Promise.all(
      Array.from({ length: 12 }, () => bootstrapAdmin({ tokenFile, dataDir: dir, server: SERVER, caPem: CA_PEM })),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    const text = await readFile(tokenFile, 'utf8');
    for (const r of results) assert.equal(r.tokenFileText, text);
    assert.equal(parseTokenFile(text).length, 1);
    assert.deepEqual((await readdir(dir)).sort(), ['admin.kubeconfig', 'tokens.csv']);
    assert.equal(current(await kubectlView(join(dir, 'admin.kubeconfig'))).token, parseTokenFile(text)[0]?.token);
  });
});

describe('bootstrapAdminCertificate', () => {
  test('a later start at another URL moves the server and keeps the certificate', async () => {
    const dir = await tempDir();
    const clientCa = await ensureCA(join(dir, 'pki'), 'test-client-ca', 'client-ca');
    const options = { dataDir: dir, server: SERVER, caPem: CA_PEM, clientCa };
    assert.equal(await bootstrapAdminCertificate(options), true);
    const file = join(dir, 'admin-cert.kubeconfig');
    const before = await readFile(file, 'utf8');
    assert.equal(await bootstrapAdminCertificate({ ...options, server: 'https://127.0.0.1:7443' }), false);
    const view = await kubectlView(file);
    assert.equal(view.clusters[0]?.cluster.server, 'https://127.0.0.1:7443');
    assert.equal(await readFile(file, 'utf8'), before.replace(JSON.stringify(SERVER), JSON.stringify('https://127.0.0.1:7443')), 'only the server changed');
  });
});

describe('renderKubeconfig', () => {
  test('values YAML would misread are quoted: kubectl reads them back exactly', async () => {
    const dir = await tempDir();
    const file = join(dir, 'odd.kubeconfig');
    const odd = { server: 'https://[::1]:6443/a path?x=1#y', caPem: CA_PEM, token: 'tok: "en" # not a comment', user: 'null' };
    await writeFile(file, renderKubeconfig(odd));
    const view = await kubectlView(file);
    assert.deepEqual(current(view), { server: odd.server, ca: CA_PEM, token: odd.token });
    assert.equal(view.users[0]?.name, 'null');
  });
});

describe('writeFileAtomic', () => {
  test('replaces the file whole, mode 0600, without leftovers', async () => {
    const dir = await tempDir();
    const file = join(dir, 'sub', 'f.txt');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    assert.equal(await readFile(file, 'utf8'), 'two');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(join(dir, 'sub')), ['f.txt']);
  });
});
