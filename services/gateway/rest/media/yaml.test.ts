/**
 * YAML bodies read as kube-apiserver reads them (sigs.k8s.io/yaml over go-yaml v2, then the
 * JSON path), hostile ones refused cheaply, and responses written as YAML.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import YAML from 'yaml';
import { StatusError } from '../../../../lib/errors.ts';
import { decodeYamlObject, encodeYaml, jsonDuplicateKeys, MAX_CONVERTED_BYTES, MAX_YAML_NODES, measureConverted, YAML_NODE_BYTES, yamlNestingBound, yamlToJson } from './yaml.ts';

const json = (text: string): unknown => JSON.parse(yamlToJson(Buffer.from(text)).json.toString());

function refused(text: string | Buffer): StatusError {
  try {
    yamlToJson(Buffer.isBuffer(text) ? text : Buffer.from(text));
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return err;
  }
  assert.fail('expected a refusal');
}

describe('yamlToJson', () => {
  test('scalars resolve as go-yaml v2 resolves them (YAML 1.1), as kube reads them', () => {
    assert.deepEqual(json('a: on\nb: yes\nc: No\nd: 0777\ne: 1_000\nf: 0x1F\ng: 0b101\nh: 1e3\ni: ~\nj: "on"\n'), {
      a: true, b: true, c: false, d: 511, e: 1000, f: 31, g: 5, h: 1000, i: null, j: 'on',
    });
    // Left strings by go-yaml when decoding into an interface: timestamps, sexagesimals; !!binary is its bytes.
    assert.deepEqual(json('t: 2001-12-14\ns: 190:20:30\nb: !!binary aGVsbG8=\n'), { t: '2001-12-14', s: '190:20:30', b: 'hello' });
    // A key that resolves to a boolean or number becomes its text.
    assert.deepEqual(json('on: 1\n12: 2\n'), { true: 1, 12: 2 });
  });

  test('merge keys merge; only the first document is read; an empty one is null', () => {
    assert.deepEqual(json('base: &b {x: 1}\nm:\n  <<: *b\n  z: 2\n'), { base: { x: 1 }, m: { x: 1, z: 2 } });
    assert.deepEqual(json('a: 1\n---\nb: 2\n'), { a: 1 });
    assert.equal(json('# nothing\n'), null);
  });

  test('a key given twice keeps its last value and is reported in go-yaml\'s words', () => {
    const r = yamlToJson(Buffer.from('a: 1\nb:\n  c: 1\n  c: 2\na: 3\n'));
    assert.deepEqual(JSON.parse(r.json.toString()), { a: 3, b: { c: 2 } });
    assert.deepEqual(r.duplicates, ['line 4: key "c" already set in map', 'line 5: key "a" already set in map']);
    const decoded = decodeYamlObject(Buffer.from('a: 1\na: 2\n'), () => {});
    assert.deepEqual(decoded.strictErrors, ['yaml: unmarshal errors:\n  line 2: key "a" already set in map']);
    // go-yaml (decode.go mapping, setMapIndex) decodes a value before it finds its key set
    // already, and names the line the value starts on: a block mapping's is its first key's.
    assert.deepEqual(yamlToJson(Buffer.from('a: 1\na:\n  b: 1\n  b: 2\n')).duplicates, ['line 4: key "b" already set in map', 'line 3: key "a" already set in map']);
    assert.deepEqual(yamlToJson(Buffer.from('a: 1\na:\nb: 2\n')).duplicates, ['line 2: key "a" already set in map']);
  });

  test('a JSON body with a key given twice is reported as go-yaml reads the JSON, in the YAML path\'s words', () => {
    const texts = [
      '{"a":1,"a":2}',
      '{\n "a": 1,\n "b": {\n  "c": 1,\n  "c": 2\n },\n "a": 3\n}',
      '{"a":1,"a":{"b":1,"b":2}}',
      '{"a\\u0062":1,"ab":[{"x":"}","x":"\\"", "y": [1, {"z": null, "z": true}]}]}',
      '{"a": 1,\r\n"a":\r\n{"b": 1}, "c": "x", "c": "y", "c": "z"}',
    ];
    const expected = [
      ['line 1: key "a" already set in map'],
      ['line 5: key "c" already set in map', 'line 7: key "a" already set in map'],
      ['line 1: key "b" already set in map', 'line 1: key "a" already set in map'],
      ['line 1: key "x" already set in map', 'line 1: key "z" already set in map', 'line 1: key "ab" already set in map'],
      ['line 3: key "a" already set in map', 'line 3: key "c" already set in map', 'line 3: key "c" already set in map'],
    ];
    texts.forEach((text, i) => {
      assert.deepEqual(jsonDuplicateKeys(text), expected[i], text);
      // The YAML parser reading the same text finds the same.
      assert.deepEqual(yamlToJson(Buffer.from(text)).duplicates, expected[i], text);
      const decoded = decodeYamlObject(Buffer.from(text), () => {});
      assert.deepEqual(decoded.object, JSON.parse(text), 'the last value kept, as JSON.parse keeps it');
      assert.deepEqual(decoded.strictErrors, [`yaml: unmarshal errors:\n  ${(expected[i] ?? []).join('\n  ')}`]);
      assert.equal(decoded.source, undefined, 'reported once, in go-yaml\'s words');
    });
    const once = decodeYamlObject(Buffer.from('{"a":{"a":1},"b":[{"a":2},{"a":3}],"__proto__":{"a":4}}'), () => {});
    assert.deepEqual(once.strictErrors, []);
    assert.ok(once.source !== undefined);
  });

  test('what JSON cannot carry is refused with 400', () => {
    assert.equal(refused('h: .inf').message, 'error converting YAML to JSON: json: unsupported value: +Inf');
    assert.equal(refused('? [a]\n: 1').message, 'error converting YAML to JSON: yaml: invalid map key');
    assert.equal(refused('~: 1').message, 'error converting YAML to JSON: unsupported map key of type: <nil>');
    assert.equal(refused('- &a [*a]\n').message, 'error converting YAML to JSON: yaml: anchor value contains itself');
    assert.match(refused('a: b: c').message, /^error converting YAML to JSON: yaml: line 1: /);
    assert.equal(refused(Buffer.from([0x61, 0x3a, 0x20, 0xff])).message, 'the body of the request is not valid UTF-8');
    for (const err of [refused('h: .inf'), refused('a: b: c')]) assert.equal(err.code, 400);
  });

  test('hostile bodies: deep nesting is refused before parsing, quickly', () => {
    for (const text of ['['.repeat(3_000_000), '- '.repeat(1_500_000) + 'x', `x: ${'['.repeat(900)}${']'.repeat(900)}`]) {
      const started = performance.now();
      const err = refused(text);
      assert.equal(err.message, 'the body of the request is nested too deeply: at most 1000 levels of objects and arrays are allowed');
      assert.ok(performance.now() - started < 5_000, 'refused without parsing the whole body');
    }
    assert.ok(yamlNestingBound('a:\n  b:\n  - c: [1, [2]]\n') < 20);
  });

  test('hostile bodies: aliases cannot expand past the limits (billion laughs, one big anchor many times)', () => {
    const laughs = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) laughs.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9).fill(`*${'abcdefghi'[i - 1]}`).join(',')}]`);
    assert.equal(refused(laughs.join('\n')).message, 'error converting YAML to JSON: yaml: document contains excessive aliasing');
    const big = `a: &a "${'x'.repeat(1_000_000)}"\nb: [${Array(50).fill('*a').join(',')}]\n`;
    const err = refused(big);
    assert.equal(err.reason, 'RequestEntityTooLarge');
    // Measured without being expanded: a shared subtree counts each time JSON would repeat it.
    const shared = { s: 'x'.repeat(100) };
    assert.ok(measureConverted([shared, shared, shared]).bytes > 300);
    assert.throws(() => measureConverted(Array(70).fill({ s: 'x'.repeat(MAX_CONVERTED_BYTES / 64) })), /Request entity too large/);
  });

  test('hostile bodies: more nodes than a parse may take are refused before parsing, 413 in kube\'s words', () => {
    // 100,000 keys in 1.1 MB: seconds of synchronous parsing and hundreds of MB of heap before this bound
    let map = '';
    for (let i = 0; i < 100_000; i++) map += `key${i}: v\n`;
    const flow = `a: [${'1,'.repeat(MAX_YAML_NODES)}1]`;
    for (const text of [map, flow, `a: [${'[],'.repeat(MAX_YAML_NODES / 2)}]`, `a:\n${'- - x\n'.repeat(MAX_YAML_NODES / 2)}`]) {
      const started = performance.now();
      const err = refused(text);
      assert.equal(err.code, 413);
      assert.equal(err.message, `Request entity too large: limit is ${MAX_YAML_NODES} YAML nodes`);
      assert.ok(performance.now() - started < 2_000, 'refused without parsing');
    }
  });

  test('hostile bodies: what the parse takes is reserved before it, by nodes (a list of numbers costs more than its bytes)', () => {
    let reserved = 0;
    const items = MAX_YAML_NODES / 2;
    yamlToJson(Buffer.from(`a: [${'1,'.repeat(items)}1]`), (bytes) => {
      reserved = Math.max(reserved, bytes);
    });
    assert.ok(reserved >= items * YAML_NODE_BYTES, `reserved ${reserved} for ${items} numbers`);
  });

  test('a body that is a JSON object is read as JSON, however many values it has (server-side apply of a big CRD)', () => {
    const data: Record<string, string> = {};
    for (let i = 0; i < 2 * MAX_YAML_NODES; i++) data[`key${i}`] = 'v';
    const body = Buffer.from(` \n${JSON.stringify({ kind: 'ConfigMap', data })}`);
    let reserved = 0;
    const decoded = decodeYamlObject(body, (bytes) => {
      reserved = Math.max(reserved, bytes);
    });
    assert.equal(Object.keys((decoded.object.data ?? {}) as object).length, 2 * MAX_YAML_NODES);
    assert.deepEqual(decoded.source?.bytes, body, 'duplicate keys are looked for in the bytes, as for a JSON body');
    assert.ok(reserved >= body.length * 4);
    // a flow mapping is not JSON: YAML reads it
    assert.deepEqual(decodeYamlObject(Buffer.from('{a: on, b: [x]}'), () => {}).object, { a: true, b: ['x'] });
  });

  test('the converted JSON goes through the JSON body checks and reservation', () => {
    const reserved: number[] = [];
    const decoded = decodeYamlObject(Buffer.from('kind: ConfigMap\nmetadata: {name: a}\n'), (bytes) => reserved.push(bytes));
    assert.deepEqual(decoded.object, { kind: 'ConfigMap', metadata: { name: 'a' } });
    assert.ok(reserved.length >= 2 && reserved.every((b) => b > 0));
    assert.throws(() => decodeYamlObject(Buffer.from('- 1\n'), () => {}), /must be a JSON object/);
    assert.throws(
      () => decodeYamlObject(Buffer.from('a: 1\n'), () => {
        throw new StatusError('TooManyRequests', 'no');
      }),
      /no/,
    );
  });
});

describe('encodeYaml', () => {
  test('keys sorted, strings that would read back as something else quoted, no anchors; reads back the same', () => {
    const shared = { x: 1 };
    const object = { kind: 'ConfigMap', data: { on: 'yes', n: '1', t: 'true', s: 'multi\nline', time: '2026-12-06T18:41:45Z', sexagesimal: '190:20:30' }, a: shared, b: shared };
    const text = encodeYaml(object).toString();
    assert.ok(!text.includes('&'), text);
    assert.ok(text.indexOf('a:') < text.indexOf('kind:'), text);
    assert.match(text, /^ {2}time: "2026-12-06T18:41:45Z"$/m);
    assert.deepEqual(json(text), object);
    assert.deepEqual(YAML.parse(text, { schema: 'yaml-1.1' }), object);
  });
});
