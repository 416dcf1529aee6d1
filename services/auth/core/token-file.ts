/**
 * Static bearer tokens in kube-apiserver's --token-auth-file format: a CSV file of
 * `token,user,uid[,"group1,group2,..."]` lines.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Authenticator, UserInfo } from '../api.ts';

export class TokenFileError extends Error {
  override name = 'TokenFileError';
}

/** Splits one CSV record (RFC 4180 quoting; spaces before a field are trimmed, as kube's reader does). */
export function parseCsvRecord(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    let value = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new TokenFileError('unterminated quoted field');
        const ch = line[i];
        if (ch === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += ch;
        i++;
      }
      if (i < line.length && line[i] !== ',') throw new TokenFileError('extraneous text after a quoted field');
    } else {
      const comma = line.indexOf(',', i);
      const end = comma === -1 ? line.length : comma;
      value = line.slice(i, end);
      if (value.includes('"')) throw new TokenFileError('bare " in a non-quoted field');
      i = end;
    }
    fields.push(value);
    i++; // past the comma (or past the end)
  }
  return fields;
}

export interface TokenEntry {
  token: string;
  user: UserInfo;
}

/** Parses a token file; TokenFileError names the line of any bad record (never its token). */
export function parseTokenFile(text: string): TokenEntry[] {
  const entries: TokenEntry[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let fields: string[];
    try {
      fields = parseCsvRecord(line);
    } catch (err) {
      throw new TokenFileError(`token file line ${index + 1}: ${(err as Error).message}`);
    }
    if (fields.length < 3) throw new TokenFileError(`token file line ${index + 1}: needs at least token, user name and uid`);
    const [token = '', username = '', uid = '', groupField = ''] = fields;
    if (token === '') throw new TokenFileError(`token file line ${index + 1}: empty token`);
    if (username === '') throw new TokenFileError(`token file line ${index + 1}: empty user name`);
    const groups = groupField
      .split(',')
      .map((g) => g.trim())
      .filter((g) => g !== '');
    entries.push({ token, user: { username, uid, groups } });
  });
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

  async authenticateToken(token: string): Promise<UserInfo | undefined> {
    if (token === '') return undefined;
    const d = digest(token);
    const entry = this.byDigest.get(d.toString('hex'));
    if (entry === undefined || !timingSafeEqual(entry.digest, d)) return undefined;
    return { ...entry.user, groups: [...entry.user.groups] };
  }
}
