/**
 * Static bearer tokens in kube-apiserver's --token-auth-file format: a CSV file of
 * `token,user,uid[,"group1,group2,..."]` lines.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../../../lib/log.ts';
import type { AuthenticationResult, Authenticator, Credentials, UserInfo } from '../api.ts';

export class TokenFileError extends Error {
  override name = 'TokenFileError';
}

/** One record of a CSV text and the line it starts on. */
interface CsvRecord {
  line: number;
  fields: string[];
}

/**
 * Reads CSV as Go's encoding/csv does with kube's settings: RFC 4180 quoting (a quoted field may
 * hold commas, `""` and line breaks), no trimming of spaces, empty lines skipped, CRLF read as LF.
 * Errors name the line, never the text.
 */
function readCsv(text: string): CsvRecord[] {
  const s = text.replace(/\r\n/g, '\n');
  const records: CsvRecord[] = [];
  let i = 0;
  let line = 1;
  while (i < s.length) {
    if (s[i] === '\n') {
      // An empty line.
      i++;
      line++;
      continue;
    }
    const recordLine = line;
    const fields: string[] = [];
    for (;;) {
      let value = '';
      if (s[i] === '"') {
        const quoteLine = line;
        i++;
        for (;;) {
          if (i >= s.length) throw new TokenFileError(`token file line ${quoteLine}: unterminated quoted field`);
          const ch = s[i] as string;
          if (ch === '"') {
            if (s[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n') line++;
          value += ch;
          i++;
        }
        if (i < s.length && s[i] !== ',' && s[i] !== '\n') {
          throw new TokenFileError(`token file line ${line}: extraneous or missing " in quoted field`);
        }
      } else {
        let end = i;
        while (end < s.length && s[end] !== ',' && s[end] !== '\n') end++;
        value = s.slice(i, end);
        if (value.includes('"')) throw new TokenFileError(`token file line ${line}: bare " in a non-quoted field`);
        i = end;
      }
      fields.push(value);
      if (i < s.length && s[i] === ',') {
        i++;
        continue;
      }
      // End of the record: a line break or the end of the text.
      if (i < s.length) {
        i++;
        line++;
      }
      break;
    }
    records.push({ line: recordLine, fields });
  }
  return records;
}

/** Splits one CSV record (RFC 4180 quoting; no trimming, as kube's encoding/csv reader). */
export function parseCsvRecord(line: string): string[] {
  const records = readCsv(line);
  if (records.length > 1) throw new TokenFileError('more than one record');
  return records[0]?.fields ?? [''];
}

export interface TokenEntry {
  token: string;
  user: UserInfo;
}

/**
 * Parses a token file as kube-apiserver's --token-auth-file: `token,user,uid[,"group1,group2"]`
 * records (more columns are ignored; groups are the fourth column split at commas, verbatim).
 * TokenFileError names the line of any bad record (never its token). Unlike kube, a record
 * with an empty token or an empty user name is refused rather than skipped or accepted.
 */
export function parseTokenFile(text: string): TokenEntry[] {
  const entries: TokenEntry[] = [];
  for (const { line, fields } of readCsv(text)) {
    // A line of only blanks is no record at all.
    if (fields.length === 1 && (fields[0] ?? '').trim() === '') continue;
    if (fields.length < 3) {
      throw new TokenFileError(`token file line ${line}: must have at least 3 columns (token, user name, user uid), found ${fields.length}`);
    }
    const [token = '', username = '', uid = '', ...rest] = fields;
    if (token === '') throw new TokenFileError(`token file line ${line}: empty token`);
    if (username === '') throw new TokenFileError(`token file line ${line}: empty user name`);
    const groups = rest.length === 0 ? [] : (rest[0] ?? '').split(',');
    entries.push({ token, user: { username, uid, groups } });
  }
  return entries;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Authenticates bearer tokens against a token file's entries. Tokens are kept only as SHA-256
 * digests and compared in constant time, so neither memory dumps nor timing give them away.
 */
export class TokenFileAuthenticator implements Authenticator {
  private readonly byDigest = new Map<string, { digest: Buffer; user: UserInfo }>();

  constructor(entries: TokenEntry[]) {
    for (const e of entries) {
      const d = digest(e.token);
      this.byDigest.set(d.toString('hex'), { digest: d, user: e.user });
    }
  }

  /** The number of distinct tokens. */
  get size(): number {
    return this.byDigest.size;
  }

  async authenticate(credentials: Credentials): Promise<AuthenticationResult> {
    const user = credentials.token === undefined ? undefined : await this.authenticateToken(credentials.token);
    return user === undefined ? { audiences: [] } : { user, audiences: [...(credentials.audiences ?? [])] };
  }

  async authenticateToken(token: string): Promise<UserInfo | undefined> {
    if (token === '') return undefined;
    const d = digest(token);
    const entry = this.byDigest.get(d.toString('hex'));
    if (entry === undefined || !timingSafeEqual(entry.digest, d)) return undefined;
    return { ...entry.user, groups: [...entry.user.groups] };
  }
}

export interface TokenFileReloadOutcome {
  /** True when the file was read and its tokens are now in force. */
  ok: boolean;
  /** The number of tokens in force after the attempt. */
  users: number;
  /** Why the new text was refused; never contains a token. */
  error?: string;
}

export interface ReloadingTokenFileOptions {
  file: string;
  logger: Logger;
  /** How long to let a burst of file events settle before reading; 100 ms by default. */
  settleMs?: number;
  /**
   * How often to compare the file's identity (inode, size, mtime) as well, for file systems
   * whose change events do not arrive (network and some container mounts); 10 s by default.
   */
  pollMs?: number;
  /** Called after every reload attempt (tests await it). */
  onReload?: (outcome: TokenFileReloadOutcome) => void;
}

/**
 * A token file kept current without a restart, as kube-apiserver's dynamic token file: the
 * directory holding the file is watched (which sees edits in place, replacement by rename, and
 * a Kubernetes volume's symlink swap) and polled as a fallback. A new text that fails to parse,
 * or a file that disappears, leaves the tokens last loaded in force and is logged with the
 * reason (a line number, never the text).
 */
export class ReloadingTokenFile implements Authenticator {
  private current: TokenFileAuthenticator;
  private lastDigest: string;
  private lastIdentity = '';
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly options: ReloadingTokenFileOptions;

  private constructor(options: ReloadingTokenFileOptions, text: string) {
    this.options = options;
    this.current = new TokenFileAuthenticator(parseTokenFile(text));
    this.lastDigest = createHash('sha256').update(text).digest('hex');
  }

  /** Reads and parses the file (a bad file at start is an error: there is no last good one), then watches it. */
  static async open(options: ReloadingTokenFileOptions): Promise<ReloadingTokenFile> {
    const text = await readFile(options.file, 'utf8');
    const self = new ReloadingTokenFile(options, text);
    self.lastIdentity = await identity(options.file);
    self.start();
    return self;
  }

  /** The number of tokens in force. */
  get size(): number {
    return this.current.size;
  }

  authenticate(credentials: Credentials): Promise<AuthenticationResult> {
    return this.current.authenticate(credentials);
  }

  authenticateToken(token: string): Promise<UserInfo | undefined> {
    return this.current.authenticateToken(token);
  }

  /** Stops watching. */
  close(): void {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.poll);
    clearTimeout(this.settle);
  }

  private start(): void {
    const { file } = this.options;
    try {
      this.watcher = watch(dirname(file), { persistent: false }, () => this.schedule());
      this.watcher.on('error', (err) => this.options.logger.warn('token file: watching its directory failed; polling only', { file, error: err.message }));
    } catch (err) {
      this.options.logger.warn('token file: cannot watch its directory; polling only', { file, error: (err as Error).message });
    }
    this.poll = setInterval(() => {
      void identity(file).then((id) => {
        if (id !== this.lastIdentity) this.schedule();
      });
    }, this.options.pollMs ?? 10_000);
    this.poll.unref();
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.settle);
    this.settle = setTimeout(() => {
      // Reloads run one after another; one that fails (an onReload callback that throws) is
      // logged and must not leave a rejected promise that would skip every later reload.
      this.reloading = this.reloading
        .then(() => this.reload())
        .catch((err: unknown) => {
          this.options.logger.warn('token file: reloading failed; the next change is read again', { file: this.options.file, error: err instanceof Error ? err.message : String(err) });
        });
    }, this.options.settleMs ?? 100);
    this.settle.unref();
  }

  private async reload(): Promise<void> {
    if (this.stopped) return;
    const { file, logger } = this.options;
    this.lastIdentity = await identity(file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const error = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : (err as Error).message;
      logger.warn('token file: cannot read it; the tokens last loaded stay in force', { file, error });
      this.options.onReload?.({ ok: false, users: this.size, error });
      return;
    }
    const d = createHash('sha256').update(text).digest('hex');
    // Events for other files of the directory, or a touch: nothing to do.
    if (d === this.lastDigest) return;
    let entries: TokenEntry[];
    try {
      entries = parseTokenFile(text);
    } catch (err) {
      // TokenFileError messages name a line, never its text.
      const error = err instanceof TokenFileError ? err.message : 'unreadable token file';
      logger.warn('token file: the new file is invalid; the tokens last loaded stay in force', { file, error });
      this.lastDigest = d;
      this.options.onReload?.({ ok: false, users: this.size, error });
      return;
    }
    this.current = new TokenFileAuthenticator(entries);
    this.lastDigest = d;
    logger.info('token file reloaded', { file, users: entries.length });
    this.options.onReload?.({ ok: true, users: entries.length });
  }
}

/** What changes when a file is edited or replaced; '' when it cannot be read. */
async function identity(file: string): Promise<string> {
  try {
    const s = await stat(file);
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return '';
  }
}
