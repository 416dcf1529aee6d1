/**
 * The auth process: static-token authentication and the privileged-group authorizer, served
 * over gRPC. On first start it creates the admin credentials (see core/bootstrap.ts).
 */
import { join, resolve } from 'node:path';
import { ensureCA } from '../../lib/pki.ts';
import { loadApiProto } from '../../lib/proto.ts';
import { runService } from '../../lib/service-main.ts';
import { PrivilegedGroupAuthorizer } from './core/authorizer.ts';
import { bootstrapAdmin } from './core/bootstrap.ts';
import { parseTokenFile, TokenFileAuthenticator } from './core/token-file.ts';
import { AUTH_MAX_REQUEST_BYTES, authenticationHandlers, authorizationHandlers } from './grpc/server.ts';

const FLAGS = [
  { flag: 'listen', env: 'AUTH_LISTEN', default: '127.0.0.1:50062', description: 'gRPC listen address' },
  { flag: 'data-dir', env: 'DATA_DIR', default: './.data', description: 'state directory: pki/, tokens.csv, admin.kubeconfig' },
  {
    flag: 'token-auth-file',
    env: 'TOKEN_AUTH_FILE',
    default: '',
    description: 'static token file (kube CSV format); default <data-dir>/tokens.csv, created with an admin token when absent',
  },
  {
    flag: 'kubeconfig-server',
    env: 'KUBECONFIG_SERVER',
    default: 'https://127.0.0.1:6443',
    description: 'the gateway URL written into admin.kubeconfig',
  },
] as const;

await runService('auth', FLAGS, { maxReceiveMessageBytes: AUTH_MAX_REQUEST_BYTES }, async ({ config, logger, server }) => {
  const dataDir = resolve(config['data-dir']);
  const tokenFile = config['token-auth-file'] === '' ? join(dataDir, 'tokens.csv') : resolve(config['token-auth-file']);
  const ca = await ensureCA(join(dataDir, 'pki'), 'kube-grpc-apiserver-ca');
  const boot = await bootstrapAdmin({ tokenFile, dataDir, server: config['kubeconfig-server'], caPem: ca.certPem });
  if (boot.created) logger.info('created admin credentials', { kubeconfig: join(dataDir, 'admin.kubeconfig') });
  const entries = parseTokenFile(boot.tokenFileText);
  logger.info('loaded token file', { users: entries.length });

  const proto = loadApiProto();
  server.addService('apiserver.v1.Authentication', proto.apiserver.v1.Authentication.service, authenticationHandlers(new TokenFileAuthenticator(entries)));
  server.addService('apiserver.v1.Authorization', proto.apiserver.v1.Authorization.service, authorizationHandlers(new PrivilegedGroupAuthorizer()));
  const port = await server.listen(config.listen);
  logger.info('serving', { port });
});
