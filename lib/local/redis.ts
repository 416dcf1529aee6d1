/**
 * A real redis-server on a loopback port, for the integration tests and the `make up` launcher.
 * The project uses redis for pub/sub fan-out, which needs no persistence, so the server runs
 * with persistence off and its data dir only holds what redis insists on writing.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { addExitCleanup, spawnProcess, waitUntil, type ManagedProcess } from './process.ts';

export interface RedisServer {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The running redis-server; a new one after restart(). */
  readonly process: ManagedProcess;
  /** SIGTERM (then SIGKILL), and remove the data dir if it was a temporary one. Safe to call twice. */
  stop(): Promise<void>;
  /** kill -9 then start again on the same port and data dir */
  restart(): Promise<void>;
}

export interface RedisOptions {
  /** default: fresh temp dir, removed on stop */
  dataDir?: string;
  /** default: a free port */
  port?: number;
  /** append redis-server's output to this file */
  logFile?: string;
  /** receive redis-server's output lines, prefixed with "[redis]" */
  onLine?: (l: string) => void;
  /** default 'redis-server' */
  binary?: string;
  /** how long to wait for redis to answer; default 30 s */
  timeoutMs?: number;
  /**
   * Keep data across restarts (append-only file in dataDir). Off by default: tests want a
   * clean server; `make up` turns it on so the changefeed's record survives a restart.
   */
  persistent?: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Fresh ports to try when an automatically chosen one was taken between freePort() and bind. */
const PORT_ATTEMPTS = 3;
const PROBE_TIMEOUT_MS = 2_000;

/**
 * Sends PING and INFO server over a raw socket (no client library, no reconnect logic to tame)
 * and resolves with the pid of the server that answered PONG. A server still loading a dump
 * answers -LOADING instead, which counts as not ready.
 */
function pingAndPid(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buffer = '';
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => fail(new Error('no answer to PING')));
    socket.once('error', fail);
    socket.once('connect', () => socket.write('PING\r\nINFO server\r\n'));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const firstEnd = buffer.indexOf('\r\n');
      if (firstEnd === -1) return;
      const first = buffer.slice(0, firstEnd);
      if (first !== '+PONG') return fail(new Error(`PING answered ${JSON.stringify(first)}`));
      // INFO's reply is a bulk string: $<length>\r\n<text>\r\n
      const rest = buffer.slice(firstEnd + 2);
      const headerEnd = rest.indexOf('\r\n');
      if (headerEnd === -1) return;
      const header = rest.slice(0, headerEnd);
      if (!header.startsWith('$')) return fail(new Error(`INFO answered ${JSON.stringify(header)}`));
      const length = Number(header.slice(1));
      const text = rest.slice(headerEnd + 2);
      // Length is in bytes; INFO server is ASCII, so characters are bytes.
      if (text.length < length) return;
      socket.destroy();
      const match = /^process_id:(\d+)/m.exec(text);
      if (match?.[1] === undefined) reject(new Error('INFO server has no process_id'));
      else resolve(Number(match[1]));
    });
  });
}

function isPortClash(message: string): boolean {
  return /address already in use/i.test(message);
}

/**
 * Starts redis-server and resolves once it answers PING. Without a port it picks a free one (and
 * retries with another if it was taken meanwhile). Without a dataDir it uses a temp dir removed by stop().
 */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const binary = options.binary ?? 'redis-server';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'local-redis-')));
  if (!ownsDataDir) await mkdir(dataDir, { recursive: true });
  const forgetDataDir = ownsDataDir
    ? addExitCleanup(() => rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 }))
    : () => {};
  const removeDataDir = async (): Promise<void> => {
    forgetDataDir();
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
  };

  let port = 0;

  /** Spawns redis-server on `port` and waits until it (not another server on the port) answers. */
  const launch = async (): Promise<ManagedProcess> => {
    const proc = spawnProcess({
      name: 'redis',
      command: binary,
      args: [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--dir', dataDir,
        // No RDB snapshots; an append-only file only when asked to persist.
        '--save', '',
        '--appendonly', options.persistent === true ? 'yes' : 'no',
        // Stay in the foreground so we supervise the server itself, logging to stdout.
        '--daemonize', 'no',
        '--logfile', '',
        // Warnings only: startup banners would drown the launcher's output; errors still show.
        '--loglevel', 'warning',
      ],
      ...(options.logFile !== undefined ? { logFile: options.logFile } : {}),
      ...(options.onLine !== undefined ? { onLine: options.onLine } : {}),
    });
    try {
      await waitUntil(
        `redis at 127.0.0.1:${port}`,
        async () => {
          const pid = await pingAndPid(port);
          if (pid !== proc.pid) throw new Error(`another redis-server (pid ${pid}) answers on port ${port}`);
        },
        { timeoutMs, process: proc },
      );
    } catch (err) {
      await proc.kill();
      throw err;
    }
    return proc;
  };

  let current: ManagedProcess | undefined;
  for (let attempt = 1; current === undefined; attempt++) {
    port = options.port ?? (await freePort());
    try {
      current = await launch();
    } catch (err) {
      // The error message carries redis's last output, where a bind failure shows.
      const message = err instanceof Error ? err.message : '';
      if (options.port === undefined && attempt < PORT_ATTEMPTS && isPortClash(message)) continue;
      await removeDataDir();
      throw err;
    }
  }

  let running: ManagedProcess = current;
  let stopping: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;

  const server: RedisServer = {
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    dataDir,
    get process() {
      return running;
    },
    stop() {
      stopping ??= (async () => {
        // Let an in-flight restart finish (or fail) so we stop the process it started.
        await restarting?.catch(() => {});
        await running.stop();
        await removeDataDir();
      })();
      return stopping;
    },
    restart() {
      if (stopping !== undefined) return Promise.reject(new Error('redis: restart() after stop()'));
      if (restarting !== undefined) return restarting;
      restarting = (async () => {
        await running.kill();
        running = await launch();
      })().finally(() => {
        restarting = undefined;
      });
      return restarting;
    },
  };
  return server;
}
