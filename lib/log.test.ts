import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { batchedStderr, createLogger, isLevel, type Level } from './log.ts';

function collect(level: Level = 'debug') {
  const lines: string[] = [];
  const logger = createLogger({ service: 'svc', level, write: (l) => lines.push(l) });
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, parsed };
}

describe('createLogger', () => {
  test('a line is one JSON object: time, level as a word, service, msg and fields at top level', () => {
    const { logger, lines, parsed } = collect();
    logger.info('serving', { port: 6443, names: ['a'] });
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]!.includes('\n'));
    const [line] = parsed();
    assert.equal(line!.level, 'info');
    assert.equal(line!.service, 'svc');
    assert.equal(line!.msg, 'serving');
    assert.equal(line!.port, 6443);
    assert.deepEqual(line!.names, ['a']);
    assert.match(String(line!.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Math.abs(Date.parse(String(line!.time)) - Date.now()) < 60_000);
  });

  test('lines below the level are dropped', () => {
    const { logger, parsed } = collect('warn');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    assert.deepEqual(
      parsed().map((l) => [l.level, l.msg]),
      [
        ['warn', 'w'],
        ['error', 'e'],
      ],
    );
  });

  test('with() binds fields to every later line, and nests', () => {
    const { logger, parsed } = collect();
    const child = logger.with({ component: 'c' }).with({ rpc: 'Get' });
    child.debug('x', { n: 1 });
    logger.info('y');
    const [a, b] = parsed();
    assert.equal(a!.component, 'c');
    assert.equal(a!.rpc, 'Get');
    assert.equal(a!.n, 1);
    assert.equal(a!.level, 'debug');
    assert.equal(b!.component, undefined);
  });

  test('a key bound again appears once in a line, with the later value', () => {
    const { logger, lines } = collect();
    logger.with({ controller: 'garbage-collector' }).with({ controller: 'garbage-collector', shard: 1 }).with({ shard: 2 }).info('x');
    const line = lines[0] ?? '';
    assert.equal(line.split('"controller"').length, 2, line);
    assert.equal(line.split('"shard"').length, 2, line);
    assert.equal((JSON.parse(line) as { shard: number }).shard, 2);
  });

  test('credential and body fields are redacted at top level, under headers, request and options, and in bound fields', () => {
    const { logger, lines, parsed } = collect();
    const secret = 'sekret-value-123';
    logger.info('a', { token: secret, authorization: `Bearer ${secret}`, password: secret, body: { data: secret }, user: 'alice' });
    logger.info('b', { request: { headers: { authorization: secret, 'user-agent': 'kubectl' }, token: secret }, options: { password: secret } });
    logger.with({ requestObject: { data: secret } }).warn('c', { responseObject: secret });
    assert.ok(!lines.some((l) => l.includes(secret)), lines.join('\n'));
    const [a, b, c] = parsed();
    assert.equal(a!.token, '[Redacted]');
    assert.equal(a!.authorization, '[Redacted]');
    assert.equal(a!.body, '[Redacted]');
    assert.equal(a!.user, 'alice');
    assert.deepEqual(b!.request, { headers: { authorization: '[Redacted]', 'user-agent': 'kubectl' }, token: '[Redacted]' });
    assert.deepEqual(b!.options, { password: '[Redacted]' });
    assert.equal(c!.requestObject, '[Redacted]');
    assert.equal(c!.responseObject, '[Redacted]');
  });

  test('errors are written as name, message and code only', () => {
    const { logger, lines, parsed } = collect();
    const err = Object.assign(new TypeError('boom'), { code: 'E_X', config: { token: 'abc' } });
    logger.error('failed', { error: err, err });
    logger.with({ cause: new Error('bound') }).error('again');
    const [a, b] = parsed();
    assert.deepEqual(a!.error, { name: 'TypeError', message: 'boom', code: 'E_X' });
    assert.deepEqual(a!.err, { name: 'TypeError', message: 'boom', code: 'E_X' });
    assert.deepEqual(b!.cause, { name: 'Error', message: 'bound' });
    assert.ok(!lines.some((l) => l.includes('at ') && l.includes('log.test.ts')), 'no stack');
  });

  test('a line of plain fields (built without pino) is the line pino writes', () => {
    const { logger, lines } = collect();
    const fields = { protocol: 'rest', verb: 'get', code: 200, latency_ms: 1.25, ratio: -0.5, sampled: false, gone: true, quote: 'a "b" \\ \n \u2028 ü', skipped: undefined, nan: 'NaN' };
    const access = logger.with({ component: 'access', shard: 2 });
    access.info('request', fields);
    // An object field takes pino's path: the same line with it, less that field.
    access.info('request', { ...fields, zz: { nested: true } });
    const [plain, viaPino] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(plain !== undefined && viaPino !== undefined);
    delete viaPino.zz;
    for (const line of [plain, viaPino]) delete line.time;
    assert.deepEqual(Object.keys(plain), Object.keys(viaPino));
    assert.deepEqual(plain, viaPino);
    assert.match(lines[0] ?? '', /^\{"level":"info","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","service":"svc","component":"access","shard":2,"protocol":"rest",/);
    // Fields pino redacts or serializes still go its way.
    access.info('x', { token: 'sekret', err: 'e', msg: 'm', infinite: Infinity });
    assert.ok(!(lines[2] ?? '').includes('sekret'));
  });

  test('isLevel knows the four levels', () => {
    for (const l of ['debug', 'info', 'warn', 'error']) assert.ok(isLevel(l));
    assert.ok(!isLevel('trace'));
    assert.ok(!isLevel('fatal'));
    assert.ok(!isLevel('toString'));
  });
});

describe('batchedStderr', () => {
  test('writes the lines of one turn of the event loop together, in order, and at once past 64 KiB', async () => {
    const chunks: string[] = [];
    const destination = batchedStderr({ write: (chunk) => chunks.push(chunk) });
    destination.write('a\n');
    destination.write('b\n');
    assert.deepEqual(chunks, []);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(chunks, ['a\nb\n']);
    const big = `${'x'.repeat(64 * 1024)}\n`;
    destination.write('c\n');
    destination.write(big);
    assert.deepEqual(chunks, ['a\nb\n', `c\n${big}`]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(chunks.length, 2);
  });

  test('lines held when the process exits are written', () => {
    const script = `import { createLogger } from ${JSON.stringify(new URL('./log.ts', import.meta.url).href)};
      const logger = createLogger({ service: 'exiting' });
      for (let i = 0; i < 3; i++) logger.info('line', { i });
      process.exit(0);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 0, child.stderr);
    const lines = child.stderr.trim().split('\n').map((l) => JSON.parse(l) as { i: number; service: string });
    assert.deepEqual(lines.map((l) => [l.service, l.i]), [['exiting', 0], ['exiting', 1], ['exiting', 2]]);
  });
});
