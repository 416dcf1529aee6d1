/**
 * First start: when the token file does not exist yet, generate an admin token (group
 * system:masters), write it to the token file, and write `admin.kubeconfig` next to it with
 * the cluster CA, so `KUBECONFIG=$DATA_DIR/admin.kubeconfig kubectl ...` works at once.
 * An existing token file is the operator's and is never rewritten; a kubeconfig written here
 * follows the gateway's URL at each later start (keepServer), its credentials unchanged.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { issueCertificate, type KeyPair } from '../../../lib/pki.ts';
import { SYSTEM_MASTERS } from '../api.ts';

export interface BootstrapOptions {
  /** The token file (kube CSV format). */
  tokenFile: string;
  /** Where admin.kubeconfig goes. */
  dataDir: string;
  /** The gateway's URL as clients reach it. */
  server: string;
  /** PEM of the CA that signs the gateway's serving certificate. */
  caPem: string;
}

export interface BootstrapResult {
  /** True when this call created the token file (and the kubeconfig). */
  created: boolean;
  /** The file's text, as read or as written. */
  tokenFileText: string;
}

/** Writes a file that readers never see half-written: temp file, then rename. Mode 0600. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, path);
}

/** The cluster's name in the kubeconfigs written here. */
const CLUSTER = 'kube-grpc-apiserver';

/**
 * A later start: a kubeconfig written here (renderKubeconfig) names the gateway's URL of the
 * start that wrote it, which may have moved since (another port); its server is set to
 * `server`, everything else kept (credentials included). A file not in that layout (edited by
 * its operator) or absent is left alone. Returns whether the file was rewritten.
 */
export async function keepServer(file: string, server: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const entry = `- name: ${CLUSTER}\n  cluster:\n    server: `;
  const start = text.indexOf(entry);
  // One cluster, ours, and its server on one line: anything else is not ours to rewrite.
  if (start < 0 || text.split('\n    server: ').length !== 2) return false;
  const from = start + entry.length;
  const end = text.indexOf('\n', from);
  const wanted = JSON.stringify(server);
  if (end < 0 || text.slice(from, end) === wanted) return false;
  await writeFileAtomic(file, text.slice(0, from) + wanted + text.slice(end));
  return true;
}

/**
 * A kubeconfig in YAML; values are JSON strings, which YAML reads as double-quoted scalars. The
 * user presents a bearer token or a client certificate (PEM certificate and key).
 */
export function renderKubeconfig(
  options: { server: string; caPem: string; user: string } & ({ token: string } | { clientCertificate: { certPem: string; keyPem: string } }),
): string {
  const q = JSON.stringify;
  const b64 = (pem: string): string => q(Buffer.from(pem).toString('base64'));
  const credential =
    'token' in options
      ? [`    token: ${q(options.token)}`]
      : [`    client-certificate-data: ${b64(options.clientCertificate.certPem)}`, `    client-key-data: ${b64(options.clientCertificate.keyPem)}`];
  const cluster = CLUSTER;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${cluster}`,
    '  cluster:',
    `    server: ${q(options.server)}`,
    `    certificate-authority-data: ${b64(options.caPem)}`,
    'users:',
    `- name: ${q(options.user)}`,
    '  user:',
    ...credential,
    'contexts:',
    `- name: ${q(options.user)}`,
    '  context:',
    `    cluster: ${cluster}`,
    `    user: ${q(options.user)}`,
    `current-context: ${q(options.user)}`,
    '',
  ].join('\n');
}

export async function bootstrapAdmin(options: BootstrapOptions): Promise<BootstrapResult> {
  try {
    const tokenFileText = await readFile(options.tokenFile, 'utf8');
    await keepServer(join(options.dataDir, 'admin.kubeconfig'), options.server);
    return { created: false, tokenFileText };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(32).toString('base64url');
  const line = `${token},admin,${randomUUID()},"${SYSTEM_MASTERS}"\n`;
  await mkdir(dirname(options.tokenFile), { recursive: true });
  // Written whole to a temp file, then hard-linked into place: link fails if the name exists,
  // so of two replicas starting at once exactly one creates the file, and nobody reads it half-written.
  const tmp = `${options.tokenFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, line, { mode: 0o600 });
  try {
    await link(tmp, options.tokenFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      return { created: false, tokenFileText: await readFile(options.tokenFile, 'utf8') };
    }
    throw err;
  } finally {
    await unlink(tmp);
  }
  await writeFileAtomic(
    join(options.dataDir, 'admin.kubeconfig'),
    renderKubeconfig({ server: options.server, caPem: options.caPem, token, user: 'admin' }),
  );
  return { created: true, tokenFileText: line };
}

/**
 * The subject of the admin client certificate: kubeadm's admin.conf before 1.29 (CN
 * kubernetes-admin, O system:masters). system:masters is allowed everything before any RBAC
 * object exists and whatever happens to the bindings, which is what a bootstrap credential is
 * for; kubeadm's newer split (a group bound to cluster-admin, plus a separate super-admin) needs
 * the bootstrap bindings in place first.
 */
export const ADMIN_CERTIFICATE_SUBJECT = { commonName: 'kubernetes-admin', organizations: [SYSTEM_MASTERS] };

export interface AdminCertificateOptions {
  /** Where admin-cert.kubeconfig goes. */
  dataDir: string;
  /** The gateway's URL as clients reach it. */
  server: string;
  /** PEM of the CA that signs the gateway's serving certificate. */
  caPem: string;
  /** The client CA, which signs the admin certificate. */
  clientCa: KeyPair;
}

/**
 * First start: writes `<dataDir>/admin-cert.kubeconfig`, a kubeconfig whose user is a client
 * certificate (one year, as kubeadm's) signed by the client CA. An existing file keeps its
 * certificate (only its server follows `server`: keepServer); of several processes starting at
 * once exactly one writes it. Returns whether this call wrote it.
 */
export async function bootstrapAdminCertificate(options: AdminCertificateOptions): Promise<boolean> {
  const file = join(options.dataDir, 'admin-cert.kubeconfig');
  try {
    await readFile(file);
    await keepServer(file, options.server);
    return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const cert = await issueCertificate(options.clientCa, { ...ADMIN_CERTIFICATE_SUBJECT, usage: 'client', validDays: 365 });
  const text = renderKubeconfig({ server: options.server, caPem: options.caPem, user: ADMIN_CERTIFICATE_SUBJECT.commonName, clientCertificate: cert });
  await mkdir(options.dataDir, { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  try {
    await link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp);
  }
}
