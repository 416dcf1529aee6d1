/**
 * First start: when the token file does not exist yet, generate an admin token (group
 * system:masters), write it to the token file, and write `admin.kubeconfig` next to it with
 * the cluster CA, so `KUBECONFIG=$DATA_DIR/admin.kubeconfig kubectl ...` works at once.
 * An existing token file is the operator's and is never rewritten.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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

/** A kubeconfig in YAML; values are JSON strings, which YAML reads as double-quoted scalars. */
export function renderKubeconfig(options: { server: string; caPem: string; token: string; user: string }): string {
  const q = JSON.stringify;
  const cluster = 'kube-grpc-apiserver';
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${cluster}`,
    '  cluster:',
    `    server: ${q(options.server)}`,
    `    certificate-authority-data: ${q(Buffer.from(options.caPem).toString('base64'))}`,
    'users:',
    `- name: ${q(options.user)}`,
    '  user:',
    `    token: ${q(options.token)}`,
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
    return { created: false, tokenFileText: await readFile(options.tokenFile, 'utf8') };
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
