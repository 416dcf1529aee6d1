/**
 * Where audit events go: a file rotated by size, as kube-apiserver's log backend
 * (--audit-log-path, --audit-log-maxsize, --audit-log-maxbackup, --audit-log-maxage), or
 * standard output for the path '-'. One event a line, JSON.
 *
 * The file is rotated by rotating-file-stream once it reaches maxSizeMb; a rotated file is
 * named as kube's (lumberjack's) are: the log's name with the rotation time (UTC) before its
 * extension, `audit-2026-12-07T05-40-56.123.log`. After each rotation, and at start, rotated
 * files beyond maxBackups (newest kept) or older than maxAgeDays are removed; 0 keeps them
 * all. Files are created readable by their owner only (0600): audit events name who did what.
 */
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';
import { ConfigError } from '../config.ts';
import type { Logger } from '../log.ts';
import type { AuditEvent } from './event.ts';

export interface AuditLogOptions {
  /** The log file, or '-' for standard output. */
  path: string;
  /** Rotate once the file reaches this many megabytes; 0: never. */
  maxSizeMb: number;
  /** Rotated files kept, newest first; 0: all. */
  maxBackups: number;
  /** Days a rotated file is kept (by the time in its name); 0: no limit. */
  maxAgeDays: number;
  logger: Logger;
  /** Rotation size in bytes, overriding maxSizeMb (tests rotate small files). */
  maxSizeBytes?: number;
}

export interface AuditSink {
  /** Queues one event; never throws (a failed file is reported once and events are then dropped). */
  write(event: AuditEvent): void;
  /** Writes what is queued and closes the file. */
  close(): Promise<void>;
}

/** A rotated file's time as lumberjack writes it: 2006-01-02T15-04-05.000. */
function rotationStamp(time: Date): string {
  return time.toISOString().slice(0, 23).replace(/:/g, '-');
}

/** The rotated files of a log, oldest first, with their rotation times. */
export function rotatedFiles(path: string): { file: string; time: number }[] {
  const dir = dirname(path);
  const ext = extname(path);
  const stem = basename(path, ext);
  const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^${escaped(stem)}-(\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d\\.\\d{3})(?:-(\\d+))?${escaped(ext)}$`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: { file: string; time: number; index: number }[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (m === null) continue;
    const [d, t] = m[1]!.split('T') as [string, string];
    const time = Date.parse(`${d}T${t.replace(/^(\d\d)-(\d\d)-/, '$1:$2:')}Z`);
    // A second rotation within the same millisecond takes the next index.
    if (!Number.isNaN(time)) out.push({ file: join(dir, name), time, index: m[2] === undefined ? 1 : Number(m[2]) });
  }
  return out.sort((a, b) => a.time - b.time || a.index - b.index).map(({ file, time }) => ({ file, time }));
}

/** Removes rotated files beyond maxBackups or older than maxAgeDays; returns the files removed. */
export function pruneRotated(path: string, maxBackups: number, maxAgeDays: number, now = Date.now()): string[] {
  const files = rotatedFiles(path);
  const doomed = new Set<string>();
  if (maxBackups > 0) for (const f of files.slice(0, Math.max(0, files.length - maxBackups))) doomed.add(f.file);
  if (maxAgeDays > 0) for (const f of files) if (now - f.time > maxAgeDays * 86_400_000) doomed.add(f.file);
  const removed: string[] = [];
  for (const file of doomed) {
    try {
      unlinkSync(file);
      removed.push(file);
    } catch {
      // Already gone: another process pruned it.
    }
  }
  return removed;
}

function checkCount(flag: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${flag} must be a whole number, 0 or more, got "${value}"`);
}

/** Opens the audit log; ConfigError for bad sizes or a directory that cannot be made. */
export function openAuditLog(options: AuditLogOptions): AuditSink {
  checkCount('--audit-log-maxsize', options.maxSizeMb);
  checkCount('--audit-log-maxbackup', options.maxBackups);
  checkCount('--audit-log-maxage', options.maxAgeDays);
  const { logger } = options;
  if (options.path === '-') {
    return {
      write: (event) => void process.stdout.write(JSON.stringify(event) + '\n'),
      close: async () => {},
    };
  }
  const path = resolve(options.path);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ConfigError(`--audit-log-path: cannot create the directory of ${path}: ${(err as Error).message}`);
  }
  const ext = extname(path);
  const stem = basename(path, ext);
  const size = options.maxSizeBytes ?? options.maxSizeMb * 1024 * 1024;
  const prune = (): void => {
    if (options.maxBackups === 0 && options.maxAgeDays === 0) return;
    const removed = pruneRotated(path, options.maxBackups, options.maxAgeDays);
    if (removed.length > 0) logger.debug('audit log: removed old rotated files', { files: removed });
  };
  // rotating-file-stream counts tries at one rotation from 1 (a name taken already gets the next
  // index); the first try has no suffix, so the name is lumberjack's.
  const stream: RotatingFileStream = createStream(
    (args) => (args === null ? basename(path) : `${stem}-${rotationStamp(args.time)}${args.index === 1 ? '' : `-${args.index}`}${ext}`),
    { path: dirname(path), mode: 0o600, ...(size > 0 && { size: `${size}B` }) },
  );
  // The stream's own event map types only its rotation events; the Writable events are Writable's.
  const writable: Writable = stream;
  let failed = false;
  let dropped = 0;
  writable.on('error', (err) => {
    failed = true;
    logger.error('audit log failed: events are dropped from now on', { path, error: err });
  });
  stream.on('warning', (err) => logger.warn('audit log', { path, error: err }));
  stream.on('rotated', (file) => {
    logger.info('audit log rotated', { file });
    prune();
  });
  prune();
  const finished = new Promise<void>((resolveFinished) => {
    writable.once('finish', resolveFinished);
    writable.once('error', () => resolveFinished());
  });
  return {
    write(event) {
      if (failed) {
        dropped++;
        return;
      }
      stream.write(JSON.stringify(event) + '\n');
    },
    async close() {
      if (!failed) stream.end();
      await finished;
      if (dropped > 0) logger.warn('audit events dropped after the audit log failed', { dropped });
    },
  };
}
