/**
 * Tests of the control-plane PKI against real TLS (node:https, i.e. OpenSSL), the openssl command
 * line, and real concurrent processes.
 * Run: ./node_modules/.bin/node --test lib/pki.test.ts
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { link, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureCA, ensureServingCertificate, issueCertificate, type KeyPair } from './pki.ts';

const LOCAL_HOSTS = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };

let root = '';
let ca: KeyPair;
let otherCA: KeyPair;
let serving: KeyPair;

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pki-test-'));
  ca = await ensureCA(path.join(root, 'pki'), 'test-ca');
  otherCA = await ensureCA(path.join(root, 'other-pki'), 'other-ca');
  serving = await ensureServingCertificate(path.join(root, 'pki'), 'apiserver', ca, LOCAL_HOSTS);
});

after(async () => {
  if (root !== '') await rm(root, { recursive: true, force: true });
});

interface Served {
  port: number;
  close(): Promise<void>;
}

async function serve(options: https.ServerOptions, handler?: Parameters<typeof https.createServer>[1]): Promise<Served> {
  const server = https.createServer(options, handler ?? ((_req, res) => res.end('ok')));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** GET with no connection pooling, so nothing outlives the test. Rejects on any TLS failure. */
function get(url: string, options: https.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...options, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function openssl(args: string[], input?: string): string {
  const result = spawnSync('openssl', args, { input, encoding: 'utf8' });
  assert.equal(result.status, 0, `openssl ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout + result.stderr;
}

test('a serving certificate is trusted via the CA for 127.0.0.1 and localhost, not via another CA', async (t) => {
  const server = await serve({ cert: serving.certPem, key: serving.keyPem });
  t.after(() => server.close());
  // `ca` replaces Node's root store: only our CA is trusted.
  const byIp = await get(`https://127.0.0.1:${server.port}/`, { ca: ca.certPem });
  assert.deepEqual(byIp, { status: 200, body: 'ok' });
  // A real name lookup of "localhost" (pinned to IPv4 because the server listens there), so the
  // DNS SAN is what gets checked.
  const byName = await get(`https://localhost:${server.port}/`, { ca: ca.certPem, family: 4 });
  assert.deepEqual(byName, { status: 200, body: 'ok' });
  // A name the certificate does not carry is refused: the SANs are actually enforced.
  await assert.rejects(get(`https://127.0.0.1:${server.port}/`, { ca: ca.certPem, servername: 'other.example' }), {
    code: 'ERR_TLS_CERT_ALTNAME_INVALID',
  });

  // The same hosts, but the certificate comes from a different CA.
  const foreign = await issueCertificate(otherCA, { commonName: 'impostor', ...LOCAL_HOSTS, usage: 'server' });
  const impostor = await serve({ cert: foreign.certPem, key: foreign.keyPem });
  t.after(() => impostor.close());
  await assert.rejects(get(`https://127.0.0.1:${impostor.port}/`, { ca: ca.certPem }), {
    code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  });
  // And the other CA does trust it, so the refusal above is about the CA and nothing else.
  assert.equal((await get(`https://127.0.0.1:${impostor.port}/`, { ca: otherCA.certPem })).status, 200);
});

test('mutual TLS: a client certificate is verified and carries the user (CN) and groups (O)', async (t) => {
  let handled = 0;
  const server = await serve(
    { cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      handled++;
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(JSON.stringify({ cn: peer.subject.CN, o: peer.subject.O }));
    },
  );
  t.after(() => server.close());
  const url = `https://127.0.0.1:${server.port}/`;

  const alice = await issueCertificate(ca, {
    commonName: 'alice',
    organizations: ['system:masters', 'developers'],
    usage: 'client',
  });
  const res = await get(url, { ca: ca.certPem, cert: alice.certPem, key: alice.keyPem });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body), { cn: 'alice', o: ['system:masters', 'developers'] });
  assert.equal(handled, 1);

  // No client certificate: the handshake is refused before any request is handled.
  await assert.rejects(get(url, { ca: ca.certPem }), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });
  // A client certificate from another CA, and a serving-only certificate (extKeyUsage is enforced):
  // refused too. The server just drops the connection, so the client sees no reason...
  const mallory = await issueCertificate(otherCA, { commonName: 'mallory', usage: 'client' });
  await assert.rejects(get(url, { ca: ca.certPem, cert: mallory.certPem, key: mallory.keyPem }));
  await assert.rejects(get(url, { ca: ca.certPem, cert: serving.certPem, key: serving.keyPem }));
  assert.equal(handled, 1);

  // ...so a server that lets unverified clients through and reports OpenSSL's verdict shows it.
  const audit = await serve(
    { cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => res.end(String((req.socket as TLSSocket).authorizationError ?? 'authorized')),
  );
  t.after(() => audit.close());
  const verdict = async (pair: KeyPair): Promise<string> =>
    (await get(`https://127.0.0.1:${audit.port}/`, { ca: ca.certPem, cert: pair.certPem, key: pair.keyPem })).body;
  assert.equal(await verdict(alice), 'authorized');
  assert.equal(await verdict(mallory), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  assert.equal(await verdict(serving), 'INVALID_PURPOSE');

  // usage 'both' works on either side.
  const both = await issueCertificate(ca, { commonName: 'peer', ...LOCAL_HOSTS, usage: 'both' });
  assert.equal((await get(url, { ca: ca.certPem, cert: both.certPem, key: both.keyPem })).status, 200);
  const peerServer = await serve({ cert: both.certPem, key: both.keyPem });
  t.after(() => peerServer.close());
  assert.equal((await get(`https://localhost:${peerServer.port}/`, { ca: ca.certPem, family: 4 })).status, 200);
});

test('openssl reads the CA as a CA and the leaf with its SANs, usages and key identifiers', async () => {
  const caText = openssl(['x509', '-noout', '-text'], ca.certPem);
  assert.match(caText, /Basic Constraints: critical\s+CA:TRUE/);
  assert.match(caText, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
  assert.match(caText, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(caText, /NIST CURVE: P-256/);
  assert.match(caText, /Subject: CN ?= ?test-ca/);

  const leaf = await issueCertificate(ca, {
    commonName: 'kube-apiserver',
    dnsNames: ['localhost', 'kubernetes.default.svc'],
    ipAddresses: ['127.0.0.1', '::1', '10.96.0.1'],
    usage: 'server',
    validDays: 30,
  });
  const leafText = openssl(['x509', '-noout', '-text'], leaf.certPem);
  assert.match(leafText, /Basic Constraints: critical\s+CA:FALSE/);
  assert.match(leafText, /Key Usage: critical\s+Digital Signature, Key Encipherment/);
  assert.match(leafText, /Extended Key Usage:\s+TLS Web Server Authentication\n/);
  assert.match(
    leafText,
    /DNS:localhost, DNS:kubernetes.default.svc, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10.96.0.1/,
  );
  assert.match(leafText, /Subject Key Identifier/);
  // The leaf's authority key identifier is the CA's subject key identifier.
  const caSki = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(caText)?.[1];
  assert.ok(caSki);
  assert.match(leafText, new RegExp(`Authority Key Identifier:\\s+(keyid:)?${caSki}`));

  // Validity: backdated an hour for clock skew, and as long as asked.
  const parsed = new X509Certificate(leaf.certPem);
  const backdated = Date.now() - parsed.validFromDate.getTime();
  assert.ok(backdated > 59 * 60_000 && backdated < 61 * 60_000, `notBefore is ${backdated} ms in the past`);
  const lifetime = parsed.validToDate.getTime() - parsed.validFromDate.getTime();
  assert.equal(Math.round(lifetime / 3_600_000), 30 * 24 + 1);

  // Client certificate: subject O and CN, client usage, no SAN.
  const client = await issueCertificate(ca, { commonName: 'bob', organizations: ['ops'], usage: 'client' });
  const clientText = openssl(['x509', '-noout', '-text'], client.certPem);
  assert.match(clientText, /Subject: O ?= ?ops, CN ?= ?bob/);
  assert.match(clientText, /Extended Key Usage:\s+TLS Web Client Authentication\n/);
  assert.doesNotMatch(clientText, /Subject Alternative Name/);

  // openssl's own chain verification, for the purpose each certificate was issued for.
  await writeFile(path.join(root, 'leaf.crt'), leaf.certPem);
  await writeFile(path.join(root, 'client.crt'), client.certPem);
  const caFile = path.join(root, 'pki', 'ca.crt');
  assert.match(openssl(['verify', '-CAfile', caFile, '-purpose', 'sslserver', path.join(root, 'leaf.crt')]), /: OK/);
  assert.match(openssl(['verify', '-CAfile', caFile, '-purpose', 'sslclient', path.join(root, 'client.crt')]), /: OK/);
  // The key file is an unencrypted PKCS#8 key that openssl reads.
  assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.match(openssl(['pkey', '-noout', '-text'], ca.keyPem), /ASN1 OID: prime256v1/);
});

test('concurrent ensureCA calls, in this process and three others, all return one CA', async (t) => {
  const dir = path.join(root, 'race', 'pki'); // not yet existing: the mkdir races too
  const modulePath = pathToFileURL(fileURLToPath(new URL('./pki.ts', import.meta.url))).href;
  // Each child loads the module, says "ready", and waits for a line on stdin so that all of them
  // and this process start creating the CA at the same moment.
  const script = `
    const { ensureCA } = await import(process.env.PKI_MODULE);
    process.stdout.write('ready\\n');
    await new Promise((resolve) => process.stdin.once('data', resolve));
    const pairs = await Promise.all([1, 2, 3].map(() => ensureCA(process.env.PKI_DIR, 'race-ca')));
    process.stdout.write(JSON.stringify(pairs) + '\\n');
  `;
  const children = [1, 2, 3].map(() => {
    const child = spawn(process.execPath, ['--input-type=module', '--no-warnings', '-e', script], {
      env: { ...process.env, PKI_MODULE: modulePath, PKI_DIR: dir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    t.after(() => child.kill());
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const ready = new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (stdout.startsWith('ready\n')) resolve();
      };
      child.stdout.on('data', check);
      child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
    });
    const done = new Promise<KeyPair[]>((resolve, reject) => {
      child.once('exit', (code) => {
        if (code !== 0) return reject(new Error(`child exited with ${code}: ${stderr}`));
        resolve(JSON.parse(stdout.slice('ready\n'.length)) as KeyPair[]);
      });
    });
    done.catch(() => {}); // observed below; avoid an unhandled rejection if `ready` fails first
    return { child, ready, done };
  });
  await Promise.all(children.map((c) => c.ready));

  for (const { child } of children) child.stdin.end('go\n');
  const local = await Promise.all(Array.from({ length: 10 }, () => ensureCA(dir, 'race-ca')));
  const remote = (await Promise.all(children.map((c) => c.done))).flat();

  const all = [...local, ...remote];
  assert.equal(all.length, 19);
  const onDisk = { certPem: await readFile(path.join(dir, 'ca.crt'), 'utf8'), keyPem: await readFile(path.join(dir, 'ca.key'), 'utf8') };
  for (const pair of all) assert.deepEqual(pair, onDisk);
  // Losers' staging directories are gone.
  assert.deepEqual((await readdir(dir)).sort(), ['ca.crt', 'ca.key']);

  // More rounds in-process only, on fresh directories, for more interleavings.
  for (let round = 0; round < 5; round++) {
    const fresh = path.join(root, 'race', `round-${round}`);
    const pairs = await Promise.all(Array.from({ length: 10 }, () => ensureCA(fresh, `round-${round}`)));
    assert.equal(new Set(pairs.map((p) => p.certPem)).size, 1);
    assert.equal(new Set(pairs.map((p) => p.keyPem)).size, 1);
    assert.deepEqual((await readdir(fresh)).sort(), ['ca.crt', 'ca.key']);
  }
});

test('ensureServingCertificate reuses a valid certificate and reissues when it no longer fits', async () => {
  const dir = path.join(root, 'serving');
  const first = await ensureServingCertificate(dir, 'apiserver', ca, LOCAL_HOSTS);
  assert.deepEqual(await ensureServingCertificate(dir, 'apiserver', ca, LOCAL_HOSTS), first, 'reused');
  // A subset of the hosts (names compare case-insensitively) is covered too.
  assert.deepEqual(await ensureServingCertificate(dir, 'apiserver', ca, { dnsNames: ['LOCALHOST'], ipAddresses: [] }), first);

  // A host is added: reissued, covering old and new.
  const more = { dnsNames: ['localhost', 'apiserver.local'], ipAddresses: ['127.0.0.1', '::1'] };
  const second = await ensureServingCertificate(dir, 'apiserver', ca, more);
  assert.notEqual(second.certPem, first.certPem);
  assert.notEqual(second.keyPem, first.keyPem);
  const cert = new X509Certificate(second.certPem);
  assert.equal(cert.checkHost('apiserver.local'), 'apiserver.local');
  assert.equal(cert.checkHost('localhost'), 'localhost');
  assert.equal(cert.checkIP('0:0:0:0:0:0:0:1'), '0:0:0:0:0:0:0:1');
  assert.deepEqual(await ensureServingCertificate(dir, 'apiserver', ca, more), second, 'reused after reissue');
  // Addresses compare as bytes: ::1 spelled out in full is the same address.
  const spelledOut = { dnsNames: [], ipAddresses: ['0:0:0:0:0:0:0:1'] };
  assert.deepEqual(await ensureServingCertificate(dir, 'apiserver', ca, spelledOut), second);
  assert.equal(await readFile(path.join(dir, 'apiserver.crt'), 'utf8'), second.certPem);

  // Signed by a different CA (the CA was rotated): reissued.
  const rotated = await ensureServingCertificate(dir, 'apiserver', otherCA, more);
  assert.ok(new X509Certificate(rotated.certPem).checkIssued(new X509Certificate(otherCA.certPem)));

  // Expiring within 30 days: reissued with a full lifetime.
  const expiring = await issueCertificate(ca, { commonName: 'apiserver', ...LOCAL_HOSTS, usage: 'server', validDays: 20 });
  await writeFile(path.join(dir, 'apiserver.crt'), expiring.certPem);
  await writeFile(path.join(dir, 'apiserver.key'), expiring.keyPem);
  const renewed = await ensureServingCertificate(dir, 'apiserver', ca, LOCAL_HOSTS);
  assert.notEqual(renewed.certPem, expiring.certPem);
  assert.ok(new X509Certificate(renewed.certPem).validToDate.getTime() > Date.now() + 300 * 86_400_000);

  // A client-only certificate under that name is not a serving certificate: reissued.
  const clientOnly = await issueCertificate(ca, { commonName: 'apiserver', ...LOCAL_HOSTS, usage: 'client' });
  await writeFile(path.join(dir, 'apiserver.crt'), clientOnly.certPem);
  await writeFile(path.join(dir, 'apiserver.key'), clientOnly.keyPem);
  assert.notEqual((await ensureServingCertificate(dir, 'apiserver', ca, LOCAL_HOSTS)).certPem, clientOnly.certPem);

  // Concurrent first issuance of one serving certificate: one pair on disk, and it matches.
  const raced = await Promise.all(Array.from({ length: 5 }, () => ensureServingCertificate(dir, 'kubelet', ca, LOCAL_HOSTS)));
  assert.equal(new Set(raced.map((p) => p.certPem)).size, 1);
  assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith('.')), [], 'no staging directories left');
});

test('a torn CA is refused, a crash between the two links is repaired, bad input is rejected', async () => {
  // ca.key without ca.crt and nothing to complete it from: an operator's problem, said clearly.
  const torn = path.join(root, 'torn');
  await ensureCA(torn, 'torn-ca');
  await rm(path.join(torn, 'ca.crt'));
  await assert.rejects(ensureCA(torn, 'torn-ca'), /ca\.key without ca\.crt/);

  // A creator that died after linking the key leaves its staging directory: the next caller
  // finishes its work and returns that CA.
  const crashed = path.join(root, 'crashed');
  const pair = await ensureCA(path.join(root, 'crashed-source'), 'crashed-ca');
  const staging = path.join(crashed, '.ca.tmp-abc123');
  await mkdir(staging, { recursive: true });
  await writeFile(path.join(staging, 'ca.key'), pair.keyPem, { mode: 0o600 });
  await writeFile(path.join(staging, 'ca.crt'), pair.certPem);
  await link(path.join(staging, 'ca.key'), path.join(crashed, 'ca.key'));
  assert.deepEqual(await ensureCA(crashed, 'crashed-ca'), pair);

  await assert.rejects(issueCertificate(ca, { commonName: 'x', dnsNames: ['10.0.0.1'], usage: 'server' }), /ipAddresses/);
  await assert.rejects(issueCertificate(ca, { commonName: 'x', ipAddresses: ['localhost'], usage: 'server' }), /invalid IP/);
  await assert.rejects(ensureServingCertificate(root, '../evil', ca, LOCAL_HOSTS), /invalid certificate name/);
  // The CA key must belong to the CA certificate.
  await assert.rejects(issueCertificate({ certPem: ca.certPem, keyPem: otherCA.keyPem }, { commonName: 'x', usage: 'client' }), /does not belong/);
  // An IPv4-mapped IPv6 address is encoded as the address it is.
  const mapped = await issueCertificate(ca, { commonName: 'x', ipAddresses: ['::ffff:10.1.2.3'], usage: 'server' });
  assert.ok(new X509Certificate(mapped.certPem).checkIP('::ffff:10.1.2.3'));
});

test('private key files are mode 0600', async () => {
  for (const file of ['pki/ca.key', 'pki/apiserver.key', 'other-pki/ca.key', 'serving/apiserver.key']) {
    const { mode } = await stat(path.join(root, file));
    assert.equal(mode & 0o777, 0o600, `${file} has mode ${(mode & 0o777).toString(8)}`);
  }
  // The directories the module created hold keys: owner only.
  assert.equal((await stat(path.join(root, 'pki'))).mode & 0o777, 0o700);
});
