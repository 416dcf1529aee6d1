/**
 * The static token file in kube-apiserver's --token-auth-file format (read with Go's
 * encoding/csv as k8s.io/apiserver's tokenfile.NewCSV does) and its authenticator.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../lib/log.ts';
import { parseCsvRecord, parseTokenFile, ReloadingTokenFile, TokenFileAuthenticator, TokenFileError, type TokenFileReloadOutcome } from './token-file.ts';

function fileError(text: string): string {
  try {
    parseTokenFile(text);
  } catch (err) {
    assert.ok(err instanceof TokenFileError, `expected a TokenFileError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected a TokenFileError');
}

describe('parseCsvRecord', () => {
  test('plain and quoted fields; a quoted field may hold commas and doubled quotes', () => {
    assert.deepEqual(parseCsvRecord('a,b,c'), ['a', 'b', 'c']);
    assert.deepEqual(parseCsvRecord('a,"b,c",d'), ['a', 'b,c', 'd']);
    assert.deepEqual(parseCsvRecord('"say ""hi""",x'), ['say "hi"', 'x']);
    assert.deepEqual(parseCsvRecord('a,,'), ['a', '', '']);
    assert.deepEqual(parseCsvRecord('""'), ['']);
  });

  test('spaces belong to the field (encoding/csv without TrimLeadingSpace)', () => {
    assert.deepEqual(parseCsvRecord(' a , b'), [' a ', ' b']);
  });

  test('bad quoting is an error', () => {
    assert.throws(() => parseCsvRecord('a"b,c'), TokenFileError);
    assert.throws(() => parseCsvRecord('"ab"c,d'), TokenFileError);
    assert.throws(() => parseCsvRecord('"abc'), TokenFileError);
    // A quote after a space is a bare quote, as in Go.
    assert.throws(() => parseCsvRecord('a, "b"'), TokenFileError);
  });
});

describe('parseTokenFile', () => {
  test('three columns: token, user name, uid; no groups', () => {
    assert.deepEqual(parseTokenFile('t0k3n,alice,1001\n'), [{ token: 't0k3n', user: { username: 'alice', uid: '1001', groups: [] } }]);
  });

  test('a fourth column holds the groups, quoted when there are several', () => {
    const entries = parseTokenFile('t1,bob,42,"system:masters,dev,ops"\nt2,carol,43,viewers\n');
    assert.deepEqual(entries, [
      { token: 't1', user: { username: 'bob', uid: '42', groups: ['system:masters', 'dev', 'ops'] } },
      { token: 't2', user: { username: 'carol', uid: '43', groups: ['viewers'] } },
    ]);
  });

  test('groups are split verbatim, as kube does (strings.Split, no trimming)', () => {
    assert.deepEqual(parseTokenFile('t,u,1,"a, b"')[0]?.user.groups, ['a', ' b']);
    assert.deepEqual(parseTokenFile('t,u,1,')[0]?.user.groups, ['']);
  });

  test('columns after the fourth are ignored', () => {
    assert.deepEqual(parseTokenFile('t,u,1,g,extra,more')[0]?.user, { username: 'u', uid: '1', groups: ['g'] });
  });

  test('the uid may be empty', () => {
    assert.deepEqual(parseTokenFile('t,u,')[0]?.user, { username: 'u', uid: '', groups: [] });
  });

  test('fields are not trimmed: a space is part of the token and the name', () => {
    assert.deepEqual(parseTokenFile(' t , u,1'), [{ token: ' t ', user: { username: ' u', uid: '1', groups: [] } }]);
  });

  test('blank lines, CRLF line ends and a missing final newline', () => {
    const entries = parseTokenFile('\n\r\na,u1,1\r\n\n   \nb,u2,2');
    assert.deepEqual(
      entries.map((e) => [e.token, e.user.username]),
      [
        ['a', 'u1'],
        ['b', 'u2'],
      ],
    );
    assert.deepEqual(parseTokenFile(''), []);
    assert.deepEqual(parseTokenFile('\n\n'), []);
  });

  test('a quoted field may span lines', () => {
    const entries = parseTokenFile('a,u,1,"g1,\ng2"\nb,v,2\n');
    assert.deepEqual(entries[0]?.user.groups, ['g1', '\ng2']);
    assert.equal(entries[1]?.token, 'b');
  });

  test('a duplicate token: the last record wins', async () => {
    const auth = new TokenFileAuthenticator(parseTokenFile('same,first,1\nsame,second,2\n'));
    assert.equal((await auth.authenticateToken('same'))?.username, 'second');
  });
});

describe('parseTokenFile errors name the line and never the token', () => {
  const SECRET = 'sup3r-s3cret-t0ken';

  test('fewer than three columns', () => {
    const message = fileError(`ok,u,1\n\n${SECRET},alice\n`);
    assert.equal(message, 'token file line 3: must have at least 3 columns (token, user name, user uid), found 2');
    assert.equal(fileError(SECRET), 'token file line 1: must have at least 3 columns (token, user name, user uid), found 1');
  });

  test('bad quoting', () => {
    for (const [text, line] of [
      [`ok,u,1\n${SECRET}",alice,1`, 2],
      [`${SECRET},alice,1,"g"x`, 1],
      [`\n\n${SECRET},alice,1,"unterminated`, 3],
    ] as const) {
      const message = fileError(text);
      assert.ok(message.startsWith(`token file line ${line}: `), message);
      assert.ok(!message.includes(SECRET), message);
    }
  });

  test('line numbers count the lines inside quoted fields', () => {
    assert.equal(fileError('a,u,1,"g1,\ng2"\nb,v,2\nc,w\n'), 'token file line 4: must have at least 3 columns (token, user name, user uid), found 2');
  });

  test('an empty token or user name is refused (kube would skip or accept them)', () => {
    assert.equal(fileError('ok,u,1\n,alice,1'), 'token file line 2: empty token');
    const message = fileError(`${SECRET},,1`);
    assert.equal(message, 'token file line 1: empty user name');
    assert.ok(!message.includes(SECRET));
  });
});

describe('TokenFileAuthenticator', () => {
  const entries = parseTokenFile('token-a,alice,1,"system:masters,dev"\ntoken-b,bob,2\n');

  test('a known token gives its user', async () => {
    const auth = new TokenFileAuthenticator(entries);
    assert.deepEqual(await auth.authenticateToken('token-a'), { username: 'alice', uid: '1', groups: ['system:masters', 'dev'] });
    assert.deepEqual(await auth.authenticateToken('token-b'), { username: 'bob', uid: '2', groups: [] });
  });

  test('unknown, empty, prefixed or case-changed tokens give no user', async () => {
    const auth = new TokenFileAuthenticator(entries);
    for (const token of ['', 'token-c', 'token-', 'token-aa', 'TOKEN-A', ' token-a']) {
      assert.equal(await auth.authenticateToken(token), undefined, token);
    }
  });

  test('callers cannot change the users it hands out', async () => {
    const auth = new TokenFileAuthenticator(entries);
    const first = await auth.authenticateToken('token-a');
    first?.groups.push('evil');
    assert.deepEqual((await auth.authenticateToken('token-a'))?.groups, ['system:masters', 'dev']);
  });

  test('no entries: nobody', async () => {
    assert.equal(await new TokenFileAuthenticator([]).authenticateToken('anything'), undefined);
  });
});

describe('ReloadingTokenFile', () => {
  const SECRET = 'n3w-s3cret-t0ken-value';

  /** A reloading token file in a fresh directory, and a way to await its next reload. */
  async function setUp(initial: string) {
    const dir = await mkdtemp(join(tmpdir(), 'token-file-'));
    const file = join(dir, 'tokens.csv');
    await writeFile(file, initial);
    const lines: string[] = [];
    const logger = createLogger({ service: 'test', level: 'debug', write: (l) => lines.push(l) });
    let waiters: ((o: TokenFileReloadOutcome) => void)[] = [];
    const tokens = await ReloadingTokenFile.open({
      file,
      logger,
      settleMs: 20,
      pollMs: 200,
      onReload: (o) => {
        const w = waiters;
        waiters = [];
        for (const f of w) f(o);
      },
    });
    const nextReload = () => new Promise<TokenFileReloadOutcome>((resolve) => waiters.push(resolve));
    return { dir, file, tokens, lines, nextReload };
  }

  test('an edited file takes effect without a restart', async () => {
    const { dir, file, tokens, nextReload } = await setUp('token-a,alice,1\n');
    try {
      assert.equal((await tokens.authenticateToken('token-a'))?.username, 'alice');
      const reloaded = nextReload();
      await writeFile(file, 'token-a,alice,1\ntoken-b,bob,2,"dev"\n');
      assert.deepEqual(await reloaded, { ok: true, users: 2 });
      assert.deepEqual(await tokens.authenticateToken('token-b'), { username: 'bob', uid: '2', groups: ['dev'] });
    } finally {
      tokens.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a file replaced by rename takes effect; removed tokens stop working', async () => {
    const { dir, file, tokens, nextReload } = await setUp('token-a,alice,1\n');
    try {
      const reloaded = nextReload();
      await writeFile(`${file}.new`, 'token-c,carol,3\n');
      await rename(`${file}.new`, file);
      assert.deepEqual(await reloaded, { ok: true, users: 1 });
      assert.equal(await tokens.authenticateToken('token-a'), undefined);
      assert.equal((await tokens.authenticateToken('token-c'))?.username, 'carol');
    } finally {
      tokens.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a bad new file keeps the last good tokens and logs the line, never the text', async () => {
    const { dir, file, tokens, lines, nextReload } = await setUp('token-a,alice,1\n');
    try {
      const refused = nextReload();
      await writeFile(file, `token-a,alice,1\n${SECRET},only-two-columns\n`);
      const outcome = await refused;
      assert.equal(outcome.ok, false);
      assert.equal(outcome.error, 'token file line 2: must have at least 3 columns (token, user name, user uid), found 2');
      assert.equal((await tokens.authenticateToken('token-a'))?.username, 'alice');
      assert.equal(await tokens.authenticateToken(SECRET), undefined);
      const removed = nextReload();
      await unlink(file);
      assert.equal((await removed).ok, false);
      assert.equal((await tokens.authenticateToken('token-a'))?.username, 'alice');
      assert.ok(lines.some((l) => l.includes('token file line 2')), lines.join('\n'));
      assert.ok(!lines.some((l) => l.includes(SECRET) || l.includes('token-a,')), lines.join('\n'));
      // A good file afterwards is taken.
      const good = nextReload();
      await writeFile(file, 'token-d,dave,4\n');
      assert.deepEqual(await good, { ok: true, users: 1 });
    } finally {
      tokens.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a reload that fails is logged and does not stop later reloads', { timeout: 10_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'token-file-'));
    const file = join(dir, 'tokens.csv');
    await writeFile(file, 'token-a,alice,1\n');
    // Resolved with the log line that reports the failed reload.
    let logged: (line: string) => void = () => {};
    const failureLogged = new Promise<string>((resolve) => (logged = resolve));
    const logger = createLogger({
      service: 'test',
      level: 'debug',
      write: (l) => {
        if (l.includes('reloading failed')) logged(l);
      },
    });
    let calls = 0;
    let reloadedAgain: (o: TokenFileReloadOutcome) => void = () => {};
    const again = new Promise<TokenFileReloadOutcome>((resolve) => (reloadedAgain = resolve));
    const tokens = await ReloadingTokenFile.open({
      file,
      logger,
      settleMs: 20,
      pollMs: 200,
      onReload: (o) => {
        calls++;
        // The first reload fails after reading the file (the callback throws).
        if (calls === 1) throw new Error('observer failed');
        reloadedAgain(o);
      },
    });
    try {
      await writeFile(file, 'token-b,bob,2\n');
      assert.match(await failureLogged, /observer failed/);
      await writeFile(file, 'token-c,carol,3\n');
      assert.deepEqual(await again, { ok: true, users: 1 });
      assert.equal((await tokens.authenticateToken('token-c'))?.username, 'carol');
    } finally {
      tokens.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
