/**
 * The gateway's flow-control flags, kube-apiserver's where it has them: the server
 * concurrency limit is --max-requests-inflight plus --max-mutating-requests-inflight (APF
 * splits their sum over the priority levels), per gateway replica (docs/decisions.md).
 */
import { ConfigError, positiveInt } from '../../../../lib/config.ts';
import type { Logger } from '../../../../lib/log.ts';
import type { Metrics } from '../../../../lib/metrics.ts';
import { DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT, DEFAULT_MAX_REQUESTS_INFLIGHT, DEFAULT_QUEUE_WAIT_MS, FlowControl } from './controller.ts';

export const FLOW_CONTROL_FLAGS = [
  {
    flag: 'enable-priority-and-fairness',
    env: 'GATEWAY_ENABLE_PRIORITY_AND_FAIRNESS',
    default: 'true',
    description: 'API Priority and Fairness, as kube-apiserver\'s flag: requests are classified by the FlowSchemas and share the seats of their priority levels; false: no limit at all',
  },
  {
    flag: 'max-requests-inflight',
    env: 'GATEWAY_MAX_REQUESTS_INFLIGHT',
    default: String(DEFAULT_MAX_REQUESTS_INFLIGHT),
    description: 'with --max-mutating-requests-inflight, the seats of this gateway replica that API Priority and Fairness splits over the priority levels (kube-apiserver\'s flags: their sum is the server\'s concurrency limit)',
  },
  {
    flag: 'max-mutating-requests-inflight',
    env: 'GATEWAY_MAX_MUTATING_REQUESTS_INFLIGHT',
    default: String(DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT),
    description: 'see --max-requests-inflight',
  },
  {
    flag: 'flowcontrol-queue-wait',
    env: 'GATEWAY_FLOWCONTROL_QUEUE_WAIT_MS',
    default: String(DEFAULT_QUEUE_WAIT_MS),
    description: 'milliseconds a request may wait in its priority level\'s queue before it is refused with 429 (kube: a quarter of --request-timeout)',
  },
] as const;

/** The replica's flow control from the flags; undefined when turned off. ConfigError for a bad value. */
export function flowControlFrom(
  config: Record<'enable-priority-and-fairness' | 'max-requests-inflight' | 'max-mutating-requests-inflight' | 'flowcontrol-queue-wait', string>,
  logger: Logger,
  metrics?: Metrics,
): FlowControl | undefined {
  const enabled = config['enable-priority-and-fairness'];
  if (enabled !== 'true' && enabled !== 'false') throw new ConfigError(`--enable-priority-and-fairness must be true or false, got "${enabled}"`);
  if (enabled === 'false') return undefined;
  return new FlowControl({
    serverConcurrencyLimit: positiveInt('--max-requests-inflight', config['max-requests-inflight']) + positiveInt('--max-mutating-requests-inflight', config['max-mutating-requests-inflight']),
    queueWaitMs: positiveInt('--flowcontrol-queue-wait', config['flowcontrol-queue-wait']),
    metrics,
    logger,
  });
}
