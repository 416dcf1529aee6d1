/**
 * The life cycle every service process shares: read configuration (flags, then environment),
 * set up logging and tracing, start, and on SIGTERM/SIGINT stop in order: report NOT_SERVING,
 * end open streams, drain calls in flight, run the service's own stop steps (newest first),
 * flush spans, exit 0.
 */
import { ConfigError, describeFlags, parseConfig, type Config, type FlagSpec } from './config.ts';
import { TLS_FLAGS, tlsFilesFrom, type TlsFiles } from './grpc/credentials.ts';
import { GrpcServer } from './grpc/serve.ts';
import { createLogger, isLevel, type Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import { hostPort, MonitorServer } from './monitor-server.ts';
import { createTelemetry, type Telemetry } from './tracing.ts';

/** Flags every service has. */
export const COMMON_FLAGS = [
  { flag: 'log-level', env: 'LOG_LEVEL', default: 'info', description: 'debug, info, warn or error' },
  {
    flag: 'shutdown-grace',
    env: 'SHUTDOWN_GRACE_MS',
    default: '10000',
    description: 'milliseconds calls in flight may take to finish after SIGTERM',
  },
  {
    flag: 'metrics-listen',
    env: 'METRICS_LISTEN',
    default: '',
    description:
      'host:port of the plaintext monitoring port: GET /metrics (Prometheus text, OpenMetrics with exemplars when asked), /livez, /readyz, /healthz, and grpc.health.v1 over h2c for the kubelet\'s grpc probe; empty turns it off',
  },
  ...TLS_FLAGS,
] as const;

export interface ServiceRuntime<C> {
  readonly config: C;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly tls: TlsFiles | undefined;
  /** This process's metrics registry: served on --metrics-listen (and the gateway's /metrics). */
  readonly metrics: Metrics;
  /** The gRPC server; the service adds its services and listens. */
  readonly server: GrpcServer;
  /** Registers a stop step; steps run newest first after the server has drained. */
  onStop(step: () => Promise<void> | void): void;
}

/** What a service's gRPC server is built with. */
export interface ServerLimits {
  /** The largest request message its services take (GrpcServerOptions.maxReceiveMessageBytes). */
  maxReceiveMessageBytes: number;
}

/**
 * Runs a service: `start` wires it and starts listening. Exit codes: 0 after a clean stop,
 * 1 when start-up fails, 2 for bad configuration.
 */
export async function runService<const T extends readonly FlagSpec[]>(
  name: string,
  flags: T,
  limits: ServerLimits,
  start: (runtime: ServiceRuntime<Config<T> & Config<typeof COMMON_FLAGS>>) => Promise<void>,
): Promise<void> {
  // `ps` shows the service, not node's main thread name.
  process.title = `apiserver-${name}`;
  const table = [...COMMON_FLAGS, ...flags] as const;
  if (process.argv.includes('--help')) {
    process.stdout.write(`${name}: flags (environment variables as fallback)\n\n${describeFlags(table)}\n`);
    return;
  }
  let config: Config<T> & Config<typeof COMMON_FLAGS>;
  let tls: TlsFiles | undefined;
  try {
    config = parseConfig(table) as Config<T> & Config<typeof COMMON_FLAGS>;
    if (!isLevel(config['log-level'])) throw new ConfigError(`unknown log level "${config['log-level']}"`);
    tls = tlsFilesFrom(config);
    if (config['metrics-listen'] !== '') {
      try {
        hostPort(config['metrics-listen']);
      } catch (err) {
        throw new ConfigError(`--metrics-listen: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    process.stderr.write(`${name}: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const level = config['log-level'];
  const logger = createLogger({ service: name, level: isLevel(level) ? level : 'info' });
  const telemetry = createTelemetry({ serviceName: name, logger });
  const metrics = new Metrics();
  const server = new GrpcServer({ name, telemetry, logger, tls, metrics, maxReceiveMessageBytes: limits.maxReceiveMessageBytes });
  const stops: (() => Promise<void> | void)[] = [];
  const runtime: ServiceRuntime<typeof config> = {
    config,
    logger,
    telemetry,
    tls,
    metrics,
    server,
    onStop: (step) => stops.push(step),
  };

  // The monitoring port opens first, so that liveness answers while the service starts.
  let monitor: MonitorServer | undefined;
  const closeMonitor = () => monitor?.close().catch(() => {});

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    await server.shutdown(Number(config['shutdown-grace']) || 10_000);
    for (const step of stops.reverse()) {
      try {
        await step();
      } catch (err) {
        logger.warn('stop step failed', { error: err });
      }
    }
    await telemetry.shutdown().catch(() => {});
    await closeMonitor();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  try {
    if (config['metrics-listen'] !== '') {
      monitor = await MonitorServer.start(config['metrics-listen'], {
        metrics,
        ready: () => server.serving,
        addHealth: (s) => server.addHealthTo(s),
        logger,
      });
      logger.info('monitoring port', { port: monitor.port });
    }
    await start(runtime);
  } catch (err) {
    logger.error('start-up failed', { error: err });
    await server.shutdown(0).catch(() => {});
    for (const step of stops.reverse()) await Promise.resolve(step()).catch(() => {});
    await closeMonitor();
    process.exit(1);
  }
}
