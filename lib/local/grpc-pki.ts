/**
 * Certificates for mutual TLS on the internal gRPC of a local control plane (`GRPC_TLS=1 make up`):
 * a CA of its own, kept in `dir` across runs, and one certificate per identity (each service, and
 * the launcher that checks their health), issued afresh at every start so that they always name
 * the addresses in use.
 *
 * This CA is not the cluster CA of `$DATA_DIR/pki` (which signs the gateway's HTTPS certificate
 * and which kubectl trusts): a kubectl user's trust must not extend to the internal services, and
 * an internal certificate must not pass as a cluster client.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { TlsFiles } from '../grpc/credentials.ts';
import { ensureCA, issueCertificate } from '../pki.ts';

/** Common name of the internal CA; informational. */
const CA_NAME = 'kube-grpc-apiserver internal gRPC CA';

/** Host part of HOST:PORT or [IPV6]:PORT. */
export function hostOf(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  const colon = address.lastIndexOf(':');
  return colon === -1 ? address : address.slice(0, colon);
}

/** Writes a file whole or not at all, so a service starting meanwhile never reads half of it. */
async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const staging = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(staging, text, { mode });
    await rename(staging, path);
  } catch (err) {
    await rm(staging, { force: true });
    throw err;
  }
}

/**
 * Ensures the CA in `dir` (created on first use, mode 0700) and issues, for each name, a
 * certificate (CN = name) valid as server and as client, whose subjectAltNames cover
 * `localhost`, 127.0.0.1, ::1 and the host of every address in `addresses` (the services dial
 * each other at the addresses they listen on, and check the name they dialed). Returns each
 * name's files: `dir/ca.crt`, `dir/<name>.crt`, `dir/<name>.key` (mode 0600).
 */
export async function issueInternalCertificates<N extends string>(dir: string, names: readonly N[], addresses: readonly string[]): Promise<Record<N, TlsFiles>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await ensureCA(dir, CA_NAME);
  const dnsNames = new Set(['localhost']);
  const ipAddresses = new Set(['127.0.0.1', '::1']);
  for (const address of addresses) {
    const host = hostOf(address);
    if (host === '') continue;
    if (isIP(host) !== 0) ipAddresses.add(host);
    else dnsNames.add(host);
  }
  const files = {} as Record<N, TlsFiles>;
  for (const name of names) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name) || name === 'ca') throw new Error(`issueInternalCertificates: invalid name ${JSON.stringify(name)}`);
    const pair = await issueCertificate(ca, {
      commonName: name,
      dnsNames: [...dnsNames],
      ipAddresses: [...ipAddresses],
      usage: 'both',
    });
    const certFile = join(dir, `${name}.crt`);
    const keyFile = join(dir, `${name}.key`);
    // Nothing reads these files before this returns; whole-file writes keep a run that was
    // interrupted from leaving half a key for the next one.
    await writeAtomically(keyFile, pair.keyPem, 0o600);
    await writeAtomically(certFile, pair.certPem, 0o644);
    files[name] = { caFile: join(dir, 'ca.crt'), certFile, keyFile };
  }
  return files;
}
