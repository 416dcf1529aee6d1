/**
 * The gateway's flags for its request logs (the access log and the audit log, as
 * kube-apiserver names the audit ones) and the observers they make.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parsePolicy } from '../../../lib/audit/policy.ts';
import { openAuditLog } from '../../../lib/audit/writer.ts';
import { ConfigError } from '../../../lib/config.ts';
import type { Logger } from '../../../lib/log.ts';
import { accessLog } from './access-log.ts';
import { AuditObserver } from './audit.ts';
import type { RequestObserver } from './observe.ts';

export const REQUEST_LOG_FLAGS = [
  {
    flag: 'access-log',
    env: 'GATEWAY_ACCESS_LOG',
    default: 'true',
    description: 'one log line (level info) per front-door request, REST and gRPC: verb, resource, namespace, name, user, code, latency, trace, span and audit ids; "false" turns it off',
  },
  {
    flag: 'audit-policy-file',
    env: 'AUDIT_POLICY_FILE',
    default: '',
    description:
      'audit.k8s.io/v1 Policy (YAML or JSON) saying which requests are audited at which level (None, Metadata, Request, RequestResponse) and which stages are omitted, as kube-apiserver\'s flag; empty: no audit. Secrets, TokenReviews, TokenRequests and SubjectAccessReviews are recorded at most at Metadata: their bodies are never written',
  },
  {
    flag: 'audit-log-path',
    env: 'AUDIT_LOG_PATH',
    default: '',
    description: 'file audit events are written to, one audit.k8s.io/v1 Event a line (created 0600, its directory 0700); "-" for standard output; empty: no audit',
  },
  { flag: 'audit-log-maxsize', env: 'AUDIT_LOG_MAXSIZE', default: '100', description: 'megabytes the audit log may reach before it is rotated; 0: never rotated' },
  {
    flag: 'audit-log-maxbackup',
    env: 'AUDIT_LOG_MAXBACKUP',
    default: '0',
    description: 'rotated audit log files kept (the newest); 0: all, unless --audit-log-maxage removes them',
  },
  {
    flag: 'audit-log-maxage',
    env: 'AUDIT_LOG_MAXAGE',
    default: '0',
    description: 'days a rotated audit log file is kept, by the time in its name; 0: no limit',
  },
] as const;

type RequestLogConfig = Record<(typeof REQUEST_LOG_FLAGS)[number]['flag'], string>;

function count(flag: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < 0) throw new ConfigError(`--${flag} must be a whole number, 0 or more, got "${raw}"`);
  return n;
}

export interface RequestLogs {
  /** The observers to add to the front door's RequestObservers. */
  observers: RequestObserver[];
  /** Writes what the audit log has queued and closes it. */
  close(): Promise<void>;
}

/** The access log and the audit log the flags ask for; ConfigError for a bad flag or policy. */
export function requestLogsFrom(config: RequestLogConfig, logger: Logger): RequestLogs {
  const access = config['access-log'];
  if (access !== 'true' && access !== 'false') throw new ConfigError(`--access-log must be "true" or "false", got "${access}"`);
  const observers: RequestObserver[] = access === 'true' ? [accessLog(logger)] : [];
  const maxSizeMb = count('audit-log-maxsize', config['audit-log-maxsize']);
  const maxBackups = count('audit-log-maxbackup', config['audit-log-maxbackup']);
  const maxAgeDays = count('audit-log-maxage', config['audit-log-maxage']);
  const policyFile = config['audit-policy-file'];
  const path = config['audit-log-path'];
  if (policyFile === '') {
    if (path !== '') logger.warn('--audit-log-path is set but --audit-policy-file is not: nothing is audited');
    return { observers, close: async () => {} };
  }
  let text: string;
  try {
    text = readFileSync(resolve(policyFile), 'utf8');
  } catch (err) {
    throw new ConfigError(`failed to read file path "${policyFile}": ${(err as Error).message}`);
  }
  const policy = parsePolicy(text, policyFile);
  if (path === '') {
    logger.warn('--audit-policy-file is set but --audit-log-path is not: nothing is audited');
    return { observers, close: async () => {} };
  }
  const sink = openAuditLog({ path, maxSizeMb, maxBackups, maxAgeDays, logger: logger.with({ component: 'audit' }) });
  observers.push(new AuditObserver({ policy, sink }));
  logger.info('audit log', { path: path === '-' ? 'stdout' : resolve(path), policy: resolve(policyFile), rules: policy.rules.length });
  return { observers, close: () => sink.close() };
}
