import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, describeFlags, parseConfig, positiveInt } from './config.ts';

const TABLE = [
  { flag: 'listen', env: 'TEST_LISTEN', default: '127.0.0.1:6443', description: 'Where to listen.' },
  { flag: 'data-dir', env: 'TEST_DATA_DIR', default: '', description: 'State.' },
  { flag: 'cache-capacity', env: 'TEST_CACHE_CAPACITY', default: '1000', description: 'Events kept.' },
] as const;

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.name, 'ConfigError');
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('parseConfig', () => {
  test('defaults when neither flag nor environment says anything', () => {
    assert.deepEqual(parseConfig(TABLE, [], {}), { listen: '127.0.0.1:6443', 'data-dir': '', 'cache-capacity': '1000' });
  });

  test('precedence: flag over environment over default', () => {
    const env = { TEST_LISTEN: '0.0.0.0:1', TEST_DATA_DIR: '/env' };
    const c = parseConfig(TABLE, ['--listen=0.0.0.0:2'], env);
    assert.equal(c.listen, '0.0.0.0:2');
    assert.equal(c['data-dir'], '/env');
    assert.equal(c['cache-capacity'], '1000');
  });

  test('an empty flag value is a value, and wins over the environment', () => {
    assert.equal(parseConfig(TABLE, ['--data-dir='], { TEST_DATA_DIR: '/env' })['data-dir'], '');
  });

  test('--name=value and --name value; "=" after the first belongs to the value', () => {
    const c = parseConfig(TABLE, ['--listen', '[::1]:6443', '--data-dir=/var/lib/a=b', '--cache-capacity', '5'], {});
    assert.deepEqual(c, { listen: '[::1]:6443', 'data-dir': '/var/lib/a=b', 'cache-capacity': '5' });
  });

  test('the last occurrence of a flag wins', () => {
    assert.equal(parseConfig(TABLE, ['--listen=a', '--listen', 'b'], {}).listen, 'b');
  });

  test('the environment is read only through the table\'s variables', () => {
    assert.equal(parseConfig(TABLE, [], { LISTEN: 'x', listen: 'y' }).listen, '127.0.0.1:6443');
  });

  test('an unknown flag is a ConfigError that names it', () => {
    assert.equal(configError(() => parseConfig(TABLE, ['--lisen=x'], {})), 'unknown flag --lisen');
    assert.equal(configError(() => parseConfig(TABLE, ['--verbose'], {})), 'unknown flag --verbose');
  });

  test('a flag without a value is a ConfigError', () => {
    assert.equal(configError(() => parseConfig(TABLE, ['--listen'], {})), 'flag --listen needs a value');
    assert.equal(configError(() => parseConfig(TABLE, ['--cache-capacity=5', '--data-dir'], {})), 'flag --data-dir needs a value');
  });

  test('a positional argument or a single-dash flag is refused', () => {
    assert.equal(configError(() => parseConfig(TABLE, ['serve'], {})), 'unexpected argument "serve"');
    assert.equal(configError(() => parseConfig(TABLE, ['-listen=x'], {})), 'unexpected argument "-listen=x"');
  });

  test('reads process.env by default', () => {
    const saved = process.env.TEST_CACHE_CAPACITY;
    process.env.TEST_CACHE_CAPACITY = '77';
    try {
      assert.equal(parseConfig(TABLE, [])['cache-capacity'], '77');
    } finally {
      if (saved === undefined) delete process.env.TEST_CACHE_CAPACITY;
      else process.env.TEST_CACHE_CAPACITY = saved;
    }
  });
});

describe('describeFlags', () => {
  test('a Markdown table, one row a flag, "(none)" for an empty default', () => {
    assert.equal(
      describeFlags(TABLE),
      [
        '| flag | environment | default | meaning |',
        '|---|---|---|---|',
        '| `--listen` | `TEST_LISTEN` | `127.0.0.1:6443` | Where to listen. |',
        '| `--data-dir` | `TEST_DATA_DIR` | (none) | State. |',
        '| `--cache-capacity` | `TEST_CACHE_CAPACITY` | `1000` | Events kept. |',
      ].join('\n'),
    );
  });
});

describe('positiveInt', () => {
  test('accepts positive integers', () => {
    assert.equal(positiveInt('cache-capacity', '1'), 1);
    assert.equal(positiveInt('cache-capacity', '10000'), 10000);
  });

  test('refuses zero, negatives, fractions and words, naming the setting', () => {
    for (const raw of ['0', '-3', '1.5', 'ten', '']) {
      assert.equal(configError(() => positiveInt('cache-capacity', raw)), `cache-capacity must be a positive integer, got "${raw}"`);
    }
  });
});
