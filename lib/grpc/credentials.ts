/**
 * Transport security of internal gRPC: mutual TLS when certificates are configured, plaintext
 * otherwise.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';

/** Files of a mutual-TLS identity; all three set turns mutual TLS on. */
export interface TlsFiles {
  /** CA that signs every service's certificate (PEM). */
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** The flags every service has for its internal gRPC identity. */
export const TLS_FLAGS = [
  {
    flag: 'grpc-tls-ca',
    env: 'GRPC_TLS_CA_FILE',
    default: '',
    description: 'CA certificate (PEM) of internal gRPC; with cert and key, turns on mutual TLS',
  },
  {
    flag: 'grpc-tls-cert',
    env: 'GRPC_TLS_CERT_FILE',
    default: '',
    description: 'this service\'s certificate (PEM) for internal gRPC, as server and as client',
  },
  {
    flag: 'grpc-tls-key',
    env: 'GRPC_TLS_KEY_FILE',
    default: '',
    description: 'private key (PEM) of --grpc-tls-cert',
  },
] as const;

/** Mutual TLS files from the TLS flags, or undefined (plaintext) when none is set. */
export function tlsFilesFrom(config: {
  'grpc-tls-ca': string;
  'grpc-tls-cert': string;
  'grpc-tls-key': string;
}): TlsFiles | undefined {
  const files = { caFile: config['grpc-tls-ca'], certFile: config['grpc-tls-cert'], keyFile: config['grpc-tls-key'] };
  const set = Object.values(files).filter((v) => v !== '').length;
  if (set === 0) return undefined;
  if (set !== 3) throw new Error('mutual TLS needs --grpc-tls-ca, --grpc-tls-cert and --grpc-tls-key together');
  return files;
}

export function serverCredentials(tls: TlsFiles | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    readFileSync(tls.caFile),
    [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }],
    true,
  );
}

export function channelCredentials(tls: TlsFiles | undefined): grpc.ChannelCredentials {
  if (tls === undefined) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(readFileSync(tls.caFile), readFileSync(tls.keyFile), readFileSync(tls.certFile));
}

/** The DER of the certificate a server call's TLS client presented, if any (grpc-js gives the leaf only). */
export function peerCertificateOf(call: { getAuthContext?: () => { sslPeerCertificate?: { raw?: Buffer } } | null }): Buffer | undefined {
  return call.getAuthContext?.()?.sslPeerCertificate?.raw;
}
