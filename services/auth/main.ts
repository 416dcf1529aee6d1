/**
 * The auth process: the authenticator chain (client certificates, the static token file,
 * service-account tokens), the service-account token issuer and the authorizer, served over
 * gRPC. On first start it creates the admin credentials, the client CA and the service-account
 * signing key (see core/bootstrap.ts).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, positiveInt } from '../../lib/config.ts';
import { ensureCA } from '../../lib/pki.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { ADDRESS_FLAGS, refreshMsFrom } from '../../lib/grpc/replicas.ts';
import { runService } from '../../lib/service-main.ts';
import { WatchClient } from '../watch/grpc/client.ts';
import { bootstrapAdmin, bootstrapAdminCertificate } from './core/bootstrap.ts';
import { audienceAgnostic, AuthenticatorChain } from './core/chain.ts';
import { loadSigningKey, loadVerificationKeys, ServiceAccountTokens, type VerificationKey } from './core/service-account-token.ts';
import { ReloadingTokenFile } from './core/token-file.ts';
import { parseCertificateBundle, X509Authenticator } from './core/x509.ts';
import { POLICY_INDEX_FLAGS, startPolicyIndex } from './core/policy-index.ts';
import { AUTH_MAX_REQUEST_BYTES, authenticationHandlers, authorizationHandlers } from './grpc/server.ts';

const FLAGS = [
  { flag: 'listen', env: 'AUTH_LISTEN', default: '127.0.0.1:50062', description: 'gRPC listen address' },
  { flag: 'data-dir', env: 'DATA_DIR', default: './.data', description: 'state directory: pki/, tokens.csv, admin.kubeconfig, admin-cert.kubeconfig' },
  {
    flag: 'token-auth-file',
    env: 'TOKEN_AUTH_FILE',
    default: '',
    description: 'static token file (kube CSV format), reloaded when it changes; default <data-dir>/tokens.csv, created with an admin token when absent',
  },
  {
    flag: 'kubeconfig-server',
    env: 'KUBECONFIG_SERVER',
    default: 'https://127.0.0.1:6443',
    description: 'the gateway URL written into admin.kubeconfig and admin-cert.kubeconfig',
  },
  {
    flag: 'client-ca-file',
    env: 'CLIENT_CA_FILE',
    default: '',
    description:
      'PEM CA bundle client certificates are verified against (CN = user, O = groups); default <data-dir>/pki/client-ca.crt, created with its key (and admin-cert.kubeconfig) when absent',
  },
  {
    flag: 'service-account-signing-key-file',
    env: 'SERVICE_ACCOUNT_SIGNING_KEY_FILE',
    default: '',
    description: 'PEM private key service-account tokens are signed with; default <data-dir>/pki/sa.key, created (RSA 2048) when absent',
  },
  {
    flag: 'service-account-key-file',
    env: 'SERVICE_ACCOUNT_KEY_FILE',
    default: '',
    description: 'comma-separated PEM files of more keys (public or private) tokens are verified with, for key rotation',
  },
  {
    flag: 'service-account-issuer',
    env: 'SERVICE_ACCOUNT_ISSUER',
    default: 'https://kubernetes.default.svc.cluster.local',
    description: 'comma-separated issuer identifiers: the first is written into new tokens, tokens of any are accepted',
  },
  {
    flag: 'service-account-jwks-uri',
    env: 'SERVICE_ACCOUNT_JWKS_URI',
    default: '',
    description: 'jwks_uri of the discovery document; default <kubeconfig-server>/openid/v1/jwks',
  },
  {
    flag: 'api-audiences',
    env: 'API_AUDIENCES',
    default: '',
    description: 'comma-separated audiences of the API server: tokens must be meant for one; default the service-account issuers',
  },
  {
    flag: 'service-account-max-token-expiration',
    env: 'SERVICE_ACCOUNT_MAX_TOKEN_EXPIRATION',
    default: '0',
    description: 'the longest lifetime of an issued token (Go duration: 48h, 90m, 3600s); 0 for no maximum',
  },
  ...POLICY_INDEX_FLAGS,
  ...ADDRESS_FLAGS,
] as const;

/** A Go duration of whole seconds made of h, m and s parts ("1h30m"), or "0". */
function parseDurationSeconds(flag: string, text: string): number {
  if (text === '0') return 0;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (m === null || text === '') throw new ConfigError(`--${flag}: invalid duration ${JSON.stringify(text)} (for example 24h, 90m, 3600s)`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

await runService('auth', FLAGS, { maxReceiveMessageBytes: AUTH_MAX_REQUEST_BYTES }, async ({ config, logger, telemetry, tls, server, onStop }) => {
  const dataDir = resolve(config['data-dir']);
  const pki = join(dataDir, 'pki');
  const tokenFile = config['token-auth-file'] === '' ? join(dataDir, 'tokens.csv') : resolve(config['token-auth-file']);
  const issuers = list(config['service-account-issuer']);
  if (issuers.length === 0) throw new ConfigError('--service-account-issuer: at least one issuer is required');
  const apiAudiences = config['api-audiences'] === '' ? issuers : list(config['api-audiences']);
  const maxExpirationSeconds = parseDurationSeconds('service-account-max-token-expiration', config['service-account-max-token-expiration']);

  const ca = await ensureCA(pki, 'kube-grpc-apiserver-ca');
  const boot = await bootstrapAdmin({ tokenFile, dataDir, server: config['kubeconfig-server'], caPem: ca.certPem });
  if (boot.created) logger.info('created admin credentials', { kubeconfig: join(dataDir, 'admin.kubeconfig') });

  // The client CA: the operator's file when given; else ours, created on first start with the
  // admin's client certificate.
  let clientCaPem: string;
  if (config['client-ca-file'] === '') {
    const clientCa = await ensureCA(pki, 'kube-grpc-apiserver-client-ca', 'client-ca');
    clientCaPem = clientCa.certPem;
    if (await bootstrapAdminCertificate({ dataDir, server: config['kubeconfig-server'], caPem: ca.certPem, clientCa })) {
      logger.info('created the admin client certificate', { kubeconfig: join(dataDir, 'admin-cert.kubeconfig') });
    }
  } else {
    clientCaPem = await readFile(resolve(config['client-ca-file']), 'utf8');
  }
  const x509 = new X509Authenticator({ roots: parseCertificateBundle(clientCaPem) });

  const tokens = await ReloadingTokenFile.open({ file: tokenFile, logger });
  onStop(() => tokens.close());
  logger.info('loaded token file', { users: tokens.size });

  const signingKeyFile = config['service-account-signing-key-file'] === '' ? join(pki, 'sa.key') : resolve(config['service-account-signing-key-file']);
  const signingKey = await loadSigningKey(signingKeyFile, config['service-account-signing-key-file'] === '');
  const verificationKeys: VerificationKey[] = [];
  for (const file of list(config['service-account-key-file'])) verificationKeys.push(...(await loadVerificationKeys(resolve(file))));
  // Roles and bindings, and the ServiceAccounts, Pods, Secrets and Nodes, followed through the
  // watch service: the authorizer, the rule resolver and the objects service-account tokens are
  // checked against. Served once
  // listed, as kube's RBAC authorizer waits for its informers (bounded: a late watch service
  // must not keep auth down; until the list is in, non-masters are refused).
  const watcher = new WatchClient(config['watch-address'], { telemetry, tls, refreshMs: refreshMsFrom(config) });
  const policy = startPolicyIndex({ watcher, logger });
  onStop(async () => {
    await policy.stop();
    watcher.close();
  });
  if (!(await policy.readyWithin(positiveInt('--policy-sync-timeout', config['policy-sync-timeout']) * 1000))) {
    logger.warn('roles, bindings and service accounts not listed yet; serving, and RBAC allows only system:masters until they are');
  }
  const serviceAccountTokens = new ServiceAccountTokens({
    signingKey,
    verificationKeys,
    issuers,
    apiAudiences,
    maxExpirationSeconds,
    jwksUri: config['service-account-jwks-uri'] === '' ? new URL('/openid/v1/jwks', config['kubeconfig-server']).href : config['service-account-jwks-uri'],
    objects: policy.objects,
  });
  logger.info('service-account tokens', { issuer: issuers[0], keyId: signingKey.kid, verificationKeys: verificationKeys.length + 1 });

  const authenticator = new AuthenticatorChain({ x509, tokens: [audienceAgnostic(tokens, apiAudiences), serviceAccountTokens], apiAudiences });
  const proto = loadApiProto();
  server.addService('apiserver.v1.Authentication', proto.apiserver.v1.Authentication.service, authenticationHandlers(authenticator, serviceAccountTokens));
  server.addService('apiserver.v1.Authorization', proto.apiserver.v1.Authorization.service, authorizationHandlers(policy.authorizer, policy.authorizer));
  const port = await server.listen(config.listen);
  logger.info('serving', { port });
});
