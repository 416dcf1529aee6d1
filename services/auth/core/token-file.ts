/**
 * Static bearer tokens in kube-apiserver's --token-auth-file format: a CSV file of
 * `token,user,uid[,"group1,group2,..."]` lines.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
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
